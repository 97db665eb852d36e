// The streaming scan: inputs in, hashed and matched records out in input
// order, on a pool of workers, with memory bounded however many inputs come.
#pragma once

#include <stddef.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "file_hasher.hpp"
#include "hash_record.hpp"
#include "path_source.hpp"

namespace hm {

class Matcher;

struct PipelineOptions {
  HashOptions hash;
  int threads = 1;                   ///< workers that read, decode, hash (and match)
  size_t read_ahead = 0;             ///< inputs hinted to the kernel ahead of the workers; 0: none
  Backend backend = Backend::Cpu;    ///< where PDQ is hashed and exact lists searched
  const Matcher* matcher = nullptr;  ///< lists every record is matched against; null: none
  size_t batch = 256;  ///< records hashed (GPU) or matched (batch searches) together
  /// Give each worker up to kMd5Lanes files at a time, read side by side, so
  /// that their MD5s run together in SIMD lanes (FileHasher::hash_files).
  /// Groups come from inputs already queued ahead, so leave this off for
  /// inputs that arrive slowly (standard input): queuing would wait for them.
  bool group_files = true;
};

/// Read -> decode and hash on `threads` workers -> PDQ in GPU batches (cuda
/// backend) -> match -> deliver, in input order.
///
/// Where the work runs: workers decode on every core. On the CPU they also
/// hash PDQ and, when every list allows concurrent searches (flat, mih,
/// digests), match the file they hashed, so no serial stage is left. With the
/// cuda backend workers stop at the pre-resized image and the delivering stage
/// hashes `batch` images at a time on the device; lists that want batches
/// (cuda-flat, FAISS's hnsw and ivf) are searched there too, with OpenMP on
/// `threads` threads. At most 64 records per worker are in flight (16 when
/// they hold pre-resized images for the GPU), so memory stays bounded.
class ScanPipeline {
 public:
  /// Opens the GPU (cuda backend with PDQ asked for: throws
  /// std::runtime_error saying why it cannot) and builds the lists' search
  /// tables on every core.
  explicit ScanPipeline(const PipelineOptions& options);
  ~ScanPipeline();
  ScanPipeline(const ScanPipeline&) = delete;
  ScanPipeline& operator=(const ScanPipeline&) = delete;

  /// The next input; false when there are no more. Called one at a time.
  using Pull = std::function<bool(SourceItem&)>;
  /// Takes finished records, in input order, one group at a time (one record
  /// unless batching); may move from them.
  using Deliver = std::function<void(std::vector<HashRecord>&)>;

  /// Runs until `pull` returns false and every record is delivered. Bad
  /// input never throws (it becomes a record's error); an exception from
  /// `pull` or `deliver` stops the run and is rethrown here.
  void run(const Pull& pull, const Deliver& deliver);

  /// True while PDQ is hashed on the GPU (false on the CPU backend, and once
  /// a device failure moved the hashing to the CPU).
  bool pdq_on_gpu() const;
  /// The GPU's name while pdq_on_gpu().
  const std::string& gpu_name() const;

 private:
  class DeferredPdq;

  /// Hashes the batch's deferred PDQ and matches what the workers did not.
  void finish_batch(std::vector<HashRecord>& records);

  PipelineOptions options_;
  std::unique_ptr<DeferredPdq> deferred_;  ///< cuda backend with PDQ only
  bool match_on_workers_ = false;
};

}  // namespace hm
