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
/// that their digests run together (MD5 in SIMD lanes, SHA-1 and SHA-256 in
/// interleaved SHA-NI streams); larger ones are hashed alone.
constexpr uint64_t kLaneFileBytes = 8u << 20;

/// Hashes files, reusing its buffers. One per thread.
class FileHasher {
 public:
  explicit FileHasher(const HashOptions& options);

  /// Never throws for bad input: problems become record.error.
  HashRecord hash_file(const std::string& path);
  /// The records of up to kMd5Lanes files, exactly as hash_file gives them,
  /// in order: the files are read side by side and their digests computed
  /// together (md5_lanes, sha1_many, sha256_many): each digest of one file
  /// is a serial chain that leaves most of the core idle.
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
  /// The digests the options ask for, lower-case hex ("" for the others).
  struct Digests {
    std::string md5, sha1, sha256;
  };
  /// Digests of n messages (n <= kMd5Lanes), computed together.
  void digest_all(const uint8_t* const* data, const size_t* sizes, int n, Digests* out) const;
  /// digest_all, or the reason it failed ("digest: ...").
  std::string digest_or_error(const uint8_t* const* data, const size_t* sizes, int n,
                              Digests* out) const;
  /// hash_bytes with the digests already computed.
  HashRecord hash_bytes(const std::string& path, const uint8_t* data, size_t size,
                        const Digests& digests);

  HashOptions options_;
  std::vector<Buffer> buffers_;  ///< [kMd5Lanes]; hash_file uses the first
  PdqSink sink_;
  PreresizeSink preresize_sink_;  ///< used instead of sink_ with defer_pdq
  pdq::PdqResult result_;
};

}  // namespace hm
