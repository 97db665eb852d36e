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

/// Hashes files one at a time, reusing its buffers. One per thread.
class FileHasher {
 public:
  explicit FileHasher(const HashOptions& options) : options_(options) {}

  /// Never throws for bad input: problems become record.error.
  HashRecord hash_file(const std::string& path);
  /// The same for bytes already in memory (digests and hashes; no read stage).
  HashRecord hash_bytes(const std::string& path, const uint8_t* data, size_t size);

 private:
  /// Reads the whole regular file into buffer_; returns "" or the error.
  std::string read_file(const std::string& path);

  HashOptions options_;
  /// File bytes: buffer_[0, size_). Grown without zero-filling, since every
  /// byte is read over anyway.
  std::unique_ptr<uint8_t[]> buffer_;
  size_t capacity_ = 0;
  size_t size_ = 0;
  PdqSink sink_;
  PreresizeSink preresize_sink_;  ///< used instead of sink_ with defer_pdq
  pdq::PdqResult result_;
};

}  // namespace hm
