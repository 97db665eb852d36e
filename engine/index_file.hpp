// The on-disk container of a hashmatch index: a header and tagged sections,
// sealed with a SHA-256 of everything before it.
//
// Layout (little-endian):
//   "HMINDEX\0"                 8 bytes magic
//   u32 format_version, u32 section_count
//   section_count x { char tag[4]; u32 zero; u64 length; length bytes; zero
//                     padding to a multiple of 8 }
//   32 bytes SHA-256 of all the bytes above
// The first section is "HEAD", a JSON object (signal, type, count, ...), so
// `index info` and future versions can read it without knowing the rest.
#pragma once

#include <stdint.h>

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "packed_strings.hpp"

namespace hm {

/// A file that is not a readable hashmatch index: foreign, truncated,
/// corrupt or of an unknown version. The message names the file.
struct IndexFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The container format version this build writes and reads.
constexpr uint32_t kIndexFormatVersion = 1;

/// Collects sections and writes them atomically (temporary file, fsync,
/// rename), so a crash never leaves a half-written index under the name.
class IndexFileWriter {
 public:
  void add_section(const char tag[4], std::vector<uint8_t> bytes);
  /// Throws IndexFileError naming the path when it cannot be written.
  void write(const std::string& path) const;

 private:
  std::vector<std::pair<std::string, std::vector<uint8_t>>> sections_;
};

/// A whole index file read into memory and verified (magic, version,
/// section bounds, checksum) before any section is handed out.
class IndexFileReader {
 public:
  /// Throws IndexFileError naming the path and the reason.
  explicit IndexFileReader(const std::string& path);
  const std::string& path() const { return path_; }
  bool has_section(const std::string& tag) const;
  /// The bytes of a section; throws IndexFileError when it is missing.
  std::string_view section(const std::string& tag) const;

 private:
  std::string path_;
  std::vector<uint8_t> data_;
  std::map<std::string, std::string_view> sections_;
};

/// Length-prefixed string lists (u32 length + bytes each), for ids and metadata.
std::vector<uint8_t> encode_strings(const PackedStrings& strings);
/// Throws IndexFileError (with `what` in the message) when the bytes do not
/// hold exactly `count` strings.
PackedStrings decode_strings(std::string_view bytes, size_t count, const std::string& what);

}  // namespace hm
