#include "scan_pipeline.hpp"

#include <omp.h>
#include <stdio.h>

#include <algorithm>
#include <stdexcept>

#include "matcher.hpp"
#include "md5_lanes.hpp"
#include "ordered_pool.hpp"
#include "preresize_sink.hpp"
#include "read_ahead.hpp"

namespace hm {

namespace {

/// Files above this are not read ahead: each would hold that much page
/// cache, and the kernel's own readahead serves one long read.
constexpr uint64_t kMaxReadAheadBytes = uint64_t(8) << 20;
/// Records in flight per worker: enough that a slow file does not idle the
/// others (a 24 MP photo takes as long as some 30 ordinary ones, and workers
/// take files 8 at a time), few enough that memory stays small: a record is
/// a path and its hashes.
constexpr size_t kRecordsInFlightPerThread = 64;
/// With the PDQ deferred to the GPU a record holds its pre-resized pixels
/// (up to 1 MB) until its batch is hashed: fewer.
constexpr size_t kDeferredRecordsInFlightPerThread = 16;

}  // namespace

/// Hashes the PDQ the workers deferred, a batch at a time, on the GPU. Should
/// the device fail, says so once and hashes the rest on the CPU: the CPU twin
/// gives the same bits from the same pre-resized images.
class ScanPipeline::DeferredPdq {
 public:
  DeferredPdq(std::unique_ptr<GpuPdqHasher> gpu, bool dihedral)
      : gpu_(std::move(gpu)), dihedral_(dihedral) {}

  /// Fills the PDQ fields of every record of `records` that waits for them.
  void hash(std::vector<HashRecord>& records) {
    batch_.clear();
    for (HashRecord& r : records)
      if (r.pdq_pending) batch_.push_back(&r);
    if (batch_.empty()) return;
    if (gpu_) {
      try {
        gpu_->hash(batch_, dihedral_);
        return;
      } catch (const std::exception& e) {
        fprintf(stderr, "hashmatch: warning: PDQ on the GPU failed (%s); hashing on the CPU from here\n",
                e.what());
        gpu_.reset();
      }
    }
    for (HashRecord* r : batch_) {
      if (!r->pdq_pending) continue;
      hash_preresized_cpu(*r->pdq_pending, dihedral_, result_, scratch_);
      set_pdq_result(result_, dihedral_, *r);
      r->pdq_pending.reset();
    }
  }

  bool on_gpu() const { return gpu_ != nullptr; }
  const std::string& device_name() const { return gpu_->device_name(); }

 private:
  std::unique_ptr<GpuPdqHasher> gpu_;
  bool dihedral_;
  std::vector<HashRecord*> batch_;
  pdq::PdqResult result_;
  pdq::PdqScratch scratch_;
};

ScanPipeline::ScanPipeline(const PipelineOptions& options) : options_(options) {
  options_.threads = std::max(1, options_.threads);
  options_.batch = std::max<size_t>(1, options_.batch);
  if (options_.backend == Backend::Cuda && options_.hash.pdq) {
    deferred_ = std::make_unique<DeferredPdq>(GpuPdqHasher::create(), options_.hash.dihedral);
    options_.hash.defer_pdq = true;
  }
  // Lists that allow concurrent searches are searched by the worker that
  // hashed the file: matching then runs on every core beside decoding, with
  // no serial match stage and no OpenMP team spinning between batches (that
  // spinning took cores from decoding).
  const Matcher* m = options_.matcher;
  match_on_workers_ = m && options_.backend == Backend::Cpu && m->concurrent_search();
  if (match_on_workers_) {
    omp_set_num_threads(options_.threads);
    m->prepare_search();  // on every core, before the workers need it
  }
}

ScanPipeline::~ScanPipeline() = default;

bool ScanPipeline::pdq_on_gpu() const { return deferred_ && deferred_->on_gpu(); }

const std::string& ScanPipeline::gpu_name() const {
  if (!pdq_on_gpu()) throw std::logic_error("ScanPipeline::gpu_name: PDQ is not on the GPU");
  return deferred_->device_name();
}

void ScanPipeline::finish_batch(std::vector<HashRecord>& records) {
  if (deferred_) deferred_->hash(records);
  if (!options_.matcher || match_on_workers_ || records.empty()) return;
  std::vector<MatchQuery> queries;
  queries.reserve(records.size());
  for (const auto& r : records) queries.push_back(match_query_of(r));
  // OpenMP's thread count is per thread, and this runs on a pool worker.
  omp_set_num_threads(options_.threads);
  std::vector<MatchOutcome> outcomes = options_.matcher->match(queries);
  for (size_t i = 0; i < records.size(); ++i) attach_matches(std::move(outcomes[i]), records[i]);
}

void ScanPipeline::run(const Pull& pull, const Deliver& deliver) {
  const int threads = options_.threads;
  std::vector<std::unique_ptr<FileHasher>> hashers;
  for (int i = 0; i < threads; ++i) hashers.push_back(std::make_unique<FileHasher>(options_.hash));
  const bool batched = deferred_ || (options_.matcher && !match_on_workers_);
  const size_t batch = batched ? options_.batch : 1;
  // Groups of files for the MD5 lanes are taken from the inputs queued ahead,
  // and only while enough are queued for every worker to get a whole group:
  // the last inputs still spread over all the workers one by one.
  const size_t group = options_.group_files && options_.hash.md5 ? (size_t)kMd5Lanes : 1;
  const size_t whole_groups = 2 * (size_t)threads * group;
  ReadAhead read_ahead(group > 1 ? std::max(options_.read_ahead, whole_groups) : options_.read_ahead,
                       kMaxReadAheadBytes, options_.read_ahead);

  // Records wait here in order until their batch is hashed and matched.
  std::vector<HashRecord> pending;
  auto flush = [&] {
    if (pending.empty()) return;
    finish_batch(pending);
    deliver(pending);
    pending.clear();
  };
  run_ordered<std::vector<SourceItem>, std::vector<HashRecord>>(
      threads,
      std::max<size_t>(1, (size_t)threads *
                              (deferred_ ? kDeferredRecordsInFlightPerThread : kRecordsInFlightPerThread) /
                              group),
      [&](std::vector<SourceItem>& items) {
        items.clear();
        const size_t take = read_ahead.queued() >= whole_groups ? group : 1;
        SourceItem item;
        while (items.size() < take && read_ahead.next(pull, item)) items.push_back(std::move(item));
        return !items.empty();
      },
      [&](int thread, std::vector<SourceItem>& items) {
        std::vector<HashRecord> records(items.size());
        std::vector<std::string> paths;
        std::vector<size_t> hashed;  // the items the source did not fail on
        for (size_t i = 0; i < items.size(); ++i) {
          if (items[i].error.empty()) {
            paths.push_back(std::move(items[i].path));
            hashed.push_back(i);
          } else {
            records[i].path = std::move(items[i].path);
            records[i].error = std::move(items[i].error);
          }
        }
        std::vector<HashRecord> out;
        hashers[thread]->hash_files(paths, out);
        for (size_t k = 0; k < hashed.size(); ++k) records[hashed[k]] = std::move(out[k]);
        if (match_on_workers_) {  // every record, as batches do: failed ones get no matches
          omp_set_num_threads(1);  // per thread: the pool already fills the cores
          for (HashRecord& record : records)
            attach_matches(std::move(options_.matcher->match({match_query_of(record)})[0]), record);
        }
        return records;
      },
      [&](std::vector<HashRecord>& records) {
        for (HashRecord& record : records) {
          pending.push_back(std::move(record));
          if (pending.size() >= batch) flush();
        }
      });
  flush();
}

}  // namespace hm
