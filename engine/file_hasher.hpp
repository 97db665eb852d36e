// Reads one file and computes everything asked of it in one pass.
#pragma once

#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "decode.hpp"
#include "hash_record.hpp"
#include "pdq_cpu.hpp"
#include "pdq_sink.hpp"
#include "preresize_sink.hpp"

namespace hm {

/// Default largest file read: 2 GiB. Larger files get a "limit:" error.
constexpr uint64_t kDefaultMaxFileBytes = 2ull << 30;

struct HashOptions {
  bool pdq = true;
  bool dihedral = false;
  bool md5 = true;
  bool sha1 = true;
  bool sha256 = true;
  DecodeOptions decode;
  uint64_t max_file_bytes = kDefaultMaxFileBytes;
  /// Decode only: leave the image, pre-resized, in HashRecord::pdq_pending
  /// for a batch hasher (the GPU) instead of hashing it here.
  bool defer_pdq = false;
};

/// Sets record's PDQ fields (hash, quality, below-minimum flag, and with
/// `dihedral` the 8 dihedral hashes) from `result`.
void set_pdq_result(const pdq::PdqResult& result, bool dihedral, HashRecord& record);

/// Files up to this size are read side by side in a group (hash_files) so
/// that their MD5s run together in SIMD lanes; larger ones are hashed alone.
constexpr uint64_t kLaneFileBytes = 8u << 20;

/// Hashes files, reusing its buffers. One per thread.
class FileHasher {
 public:
  explicit FileHasher(const HashOptions& options);

  /// Never throws for bad input: problems become record.error.
  HashRecord hash_file(const std::string& path);
  /// The records of up to kMd5Lanes files, exactly as hash_file gives them,
  /// in order: the files are read side by side and their MD5s computed
  /// together in SIMD lanes (md5_lanes), a serial chain one file at a time.
  void hash_files(const std::vector<std::string>& paths, std::vector<HashRecord>& out);
  /// The same for bytes already in memory (digests and hashes; no read stage).
  HashRecord hash_bytes(const std::string& path, const uint8_t* data, size_t size);

 private:
  /// A file's bytes: data[0, size). Grown without zero-filling, since every
  /// byte is read over anyway.
  struct Buffer {
    std::unique_ptr<uint8_t[]> data;
    size_t capacity = 0;
    size_t size = 0;
    /// Keeps memory bounded: one huge file must not pin its buffer for the rest of the run.
    void release_above(size_t bytes) {
      if (capacity > bytes) {
        data.reset();
        capacity = 0;
      }
    }
  };

  /// Reads the whole regular file into `buffer`; returns "" or the error.
  std::string read_file(const std::string& path, Buffer& buffer);
  /// hash_bytes with the MD5 already computed (lower-case hex), or null.
  HashRecord hash_bytes(const std::string& path, const uint8_t* data, size_t size,
                        const std::string* md5_hex);

  HashOptions options_;
  std::vector<Buffer> buffers_;  ///< [kMd5Lanes]; hash_file uses the first
  PdqSink sink_;
  PreresizeSink preresize_sink_;  ///< used instead of sink_ with defer_pdq
  pdq::PdqResult result_;
};

}  // namespace hm
