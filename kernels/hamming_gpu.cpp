// The CUDA backend's Hamming search: reference storage, query batches,
// scratch, launches and the decoding of the sorted keys into the CPU twin's
// output around the kernels of hamming_cuda.cu.
#include "hamming_gpu.hpp"

#include <string.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_check.cuh"
#include "cuda_resources.cuh"
#include "hamming.hpp"
#include "hamming_cuda.cuh"

namespace hm {

namespace {

using hamming::kKeyQueryShift;

using cuda::DeviceBuffer;
using cuda::elapsed_ms;
using cuda::Event;
using cuda::Stream;

/// Range hits a batch starts with room for (8 MiB per buffer).
constexpr size_t kInitialHitCapacity = size_t(1) << 20;

/// Bytes of device memory per range hit: the found and the sorted keys.
constexpr size_t kBytesPerHit = 2 * sizeof(uint64_t);

CudaDeviceInfo device_info(int device) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) (void)cudaGetLastError();
  if (err != cudaSuccess || device < 0 || device >= count) {
    throw std::runtime_error("HammingGpuSearch: no CUDA device " + std::to_string(device) +
                             " (the runtime sees " +
                             std::to_string(err == cudaSuccess ? count : 0) + ")");
  }
  cudaDeviceProp p{};
  HM_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  return cuda::device_info_of(device, p);
}

}  // namespace

class HammingGpuSearch::Impl {
 public:
  explicit Impl(const HammingGpuOptions& options)
      : options_(checked(options)), info_(device_info(options.device)), stream_(make_stream()) {}

  ~Impl() {
    // Let queued work finish before the buffers it uses are freed.
    HM_CUDA_CHECK_NO_THROW(cudaSetDevice(options_.device));
    HM_CUDA_CHECK_NO_THROW(cudaStreamSynchronize(stream_->get()));
  }

  void add_references(const uint8_t* refs, size_t n) {
    if (n == 0) return;
    if (refs == nullptr) throw std::invalid_argument("HammingGpuSearch: null references");
    if (n > static_cast<size_t>(hamming::kMaxRefs) - nr_)
      throw std::invalid_argument("HammingGpuSearch: more than 2^31 - 2 references");
    use_device();
    const size_t bytes = (nr_ + n) * kHash256Bytes;
    if (bytes > refs_.size())  // geometric growth: repeated adds copy O(n) in all
      refs_.reserve_keep(std::max(bytes, 2 * refs_.size()), nr_ * kHash256Bytes, stream());
    HM_CUDA_CHECK(cudaMemcpyAsync(refs_.get() + nr_ * kHash256Bytes, refs, n * kHash256Bytes,
                                  cudaMemcpyHostToDevice, stream()));
    HM_CUDA_CHECK(cudaStreamSynchronize(stream()));
    nr_ += n;
  }

  void clear_references() {
    use_device();
    HM_CUDA_CHECK(cudaStreamSynchronize(stream()));
    refs_.reset();
    nr_ = 0;
  }

  size_t reference_count() const { return nr_; }

  size_t device_bytes() const {
    return refs_.bytes() + queries_.bytes() + hits_.bytes() + sorted_hits_.bytes() +
           sort_temp_.bytes() + hit_count_.bytes() + histogram_.bytes() + cutoff_.bytes() +
           fill_.bytes() + tie_offsets_.bytes() + knn_keys_.bytes() + knn_sorted_.bytes();
  }

  void range(const uint8_t* queries, size_t nq, int max_distance, HammingRangeResult& out) {
    out.lims.assign(nq + 1, 0);
    out.labels.clear();
    out.distances.clear();
    timing_ = HammingGpuTiming{};
    if (nq == 0 || nr_ == 0 || max_distance < 0) return;
    if (queries == nullptr) throw std::invalid_argument("HammingGpuSearch: null queries");
    use_device();
    const int limit = std::min(max_distance, 8 * kHash256Bytes);
    const size_t max_hits = std::max<size_t>(1, options_.max_hit_bytes / kBytesPerHit);
    hits_.reserve(std::min(kInitialHitCapacity, max_hits));
    sorted_hits_.reserve(hits_.size());
    hit_count_.reserve(1);
    Event start, stop, kernel_start, kernel_stop;
    HM_CUDA_CHECK(cudaEventRecord(start.get(), stream()));

    size_t batch = batch_queries();
    for (size_t begin = 0; begin < nq;) {
      size_t n = std::min(batch, nq - begin);
      upload_queries(queries + begin * kHash256Bytes, n);
      uint64_t count = 0;
      for (;;) {
        HM_CUDA_CHECK(cudaMemsetAsync(hit_count_.get(), 0, sizeof(unsigned long long), stream()));
        hamming::HammingRangeArgs args;
        args.scan =
            scan(n, hamming::hamming_range_chunk_refs(
                        static_cast<int64_t>(n), static_cast<int64_t>(nr_), info_.multiprocessors));
        args.max_distance = limit;
        args.hits = hits_.get();
        args.capacity = hits_.size();
        args.hit_count = hit_count_.get();
        HM_CUDA_CHECK(cudaEventRecord(kernel_start.get(), stream()));
        hamming::launch_hamming_range_async(args, stream());
        HM_CUDA_CHECK(cudaEventRecord(kernel_stop.get(), stream()));
        unsigned long long found = 0;
        HM_CUDA_CHECK(cudaMemcpyAsync(&found, hit_count_.get(), sizeof(found),
                                      cudaMemcpyDeviceToHost, stream()));
        HM_CUDA_CHECK(cudaStreamSynchronize(stream()));
        timing_.search_ms += elapsed_ms(kernel_start, kernel_stop);
        count = found;
        if (count <= hits_.size()) break;
        // Too many hits for the buffer: the count is exact, so rerun with
        // room for them, or, past the budget, with fewer queries (the first
        // rows of this batch are already on the device).
        ++timing_.reruns;
        if (n > 1 && count > max_hits) {
          // count > max_hits, so n shrinks: the loop ends.
          n = std::min(n - 1, std::max<size_t>(1, static_cast<size_t>(static_cast<double>(n) *
                                                                      max_hits / count)));
          batch = n;
        } else {
          const size_t room = std::max<size_t>(count, std::min<size_t>(2 * hits_.size(), max_hits));
          hits_.reserve(room);
          sorted_hits_.reserve(room);
        }
      }
      append_range_hits(begin, n, count, out);
      begin += n;
      ++timing_.batches;
    }

    for (size_t i = 0; i < nq; ++i) out.lims[i + 1] += out.lims[i];
    HM_CUDA_CHECK(cudaEventRecord(stop.get(), stream()));
    HM_CUDA_CHECK(cudaEventSynchronize(stop.get()));
    timing_.device_ms = elapsed_ms(start, stop);
  }

  void knn(const uint8_t* queries, size_t nq, size_t k, int32_t* distances, int64_t* labels) {
    timing_ = HammingGpuTiming{};
    if (nq == 0 || k == 0) return;
    if (distances == nullptr || labels == nullptr)
      throw std::invalid_argument("HammingGpuSearch: null output");
    if (k > static_cast<size_t>(INT32_MAX))
      throw std::invalid_argument("HammingGpuSearch: k above 2^31 - 1");
    if (nr_ == 0) {
      std::fill(distances, distances + nq * k, kKnnPadDistance);
      std::fill(labels, labels + nq * k, kKnnPadLabel);
      return;
    }
    if (queries == nullptr) throw std::invalid_argument("HammingGpuSearch: null queries");
    use_device();
    Event start, stop, kernel_start, kernel_stop;
    HM_CUDA_CHECK(cudaEventRecord(start.get(), stream()));
    const size_t batch =
        std::min(batch_queries(), std::max<size_t>(1, options_.max_knn_entries / k));
    for (size_t begin = 0; begin < nq; begin += batch) {
      const size_t n = std::min(batch, nq - begin);
      const size_t entries = n * k;
      upload_queries(queries + begin * kHash256Bytes, n);
      const int64_t chunk = hamming::hamming_knn_chunk_refs(
          static_cast<int64_t>(n), static_cast<int64_t>(nr_), info_.multiprocessors);
      const size_t chunks =
          static_cast<size_t>(hamming::hamming_chunks(static_cast<int64_t>(nr_), chunk));
      histogram_.reserve(n * hamming::kDistanceBins);
      cutoff_.reserve(n);
      fill_.reserve(n);
      tie_offsets_.reserve(n * chunks);
      knn_keys_.reserve(entries);
      knn_sorted_.reserve(entries);
      sort_temp_.reserve(
          hamming::hamming_knn_sort_temp_bytes(static_cast<int64_t>(n), static_cast<int64_t>(k)));

      hamming::HammingKnnArgs args;
      args.scan = scan(n, chunk);
      args.k = static_cast<int64_t>(k);
      args.histogram = histogram_.get();
      args.cutoff = cutoff_.get();
      args.fill = fill_.get();
      args.tie_offsets = tie_offsets_.get();
      args.keys = knn_keys_.get();
      args.sorted_keys = knn_sorted_.get();
      args.sort_temp = sort_temp_.get();
      args.sort_temp_bytes = sort_temp_.size();
      HM_CUDA_CHECK(cudaEventRecord(kernel_start.get(), stream()));
      hamming::launch_hamming_knn_async(args, stream());
      HM_CUDA_CHECK(cudaEventRecord(kernel_stop.get(), stream()));
      host_keys_.resize(entries);
      HM_CUDA_CHECK(cudaMemcpyAsync(host_keys_.data(), knn_sorted_.get(),
                                    sizeof(uint64_t) * entries, cudaMemcpyDeviceToHost, stream()));
      HM_CUDA_CHECK(cudaStreamSynchronize(stream()));
      timing_.search_ms += elapsed_ms(kernel_start, kernel_stop);
      ++timing_.batches;
      write_knn_rows(n, k, distances + begin * k, labels + begin * k);
    }
    HM_CUDA_CHECK(cudaEventRecord(stop.get(), stream()));
    HM_CUDA_CHECK(cudaEventSynchronize(stop.get()));
    timing_.device_ms = elapsed_ms(start, stop);
  }

  const HammingGpuTiming& timing() const { return timing_; }
  const CudaDeviceInfo& info() const { return info_; }

  double popcount_ceiling() const {
    int clock_khz = 0;
    HM_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, options_.device));
    constexpr double kPopcPerClockPerSm = 16.0;  // sm_80 .. sm_90 (CUDA guide, throughput table)
    constexpr double kPopcPerComparison = 8.0;   // 256 bits, 32 per POPC
    return info_.multiprocessors * kPopcPerClockPerSm * clock_khz * 1e3 / kPopcPerComparison;
  }

 private:
  static HammingGpuOptions checked(const HammingGpuOptions& options) {
    if (options.max_queries_per_batch == 0)
      throw std::invalid_argument("HammingGpuOptions: max_queries_per_batch must be positive");
    return options;
  }

  /// Creates the stream on the chosen device (after info_ has checked it).
  std::unique_ptr<Stream> make_stream() {
    use_device();
    return std::make_unique<Stream>();
  }

  /// The runtime's current device is per host thread: set it on every call.
  void use_device() const { HM_CUDA_CHECK(cudaSetDevice(options_.device)); }

  cudaStream_t stream() const { return stream_->get(); }

  size_t batch_queries() const {
    return std::min(options_.max_queries_per_batch, static_cast<size_t>(hamming::kMaxBatchQueries));
  }

  void upload_queries(const uint8_t* queries, size_t n) {
    queries_.reserve(n * kHash256Bytes);
    HM_CUDA_CHECK(cudaMemcpyAsync(queries_.get(), queries, n * kHash256Bytes,
                                  cudaMemcpyHostToDevice, stream()));
  }

  hamming::HammingScan scan(size_t nq, int64_t chunk_refs) const {
    hamming::HammingScan s;
    s.queries = reinterpret_cast<const ulonglong2*>(queries_.get());
    s.nq = static_cast<int64_t>(nq);
    s.refs = reinterpret_cast<const ulonglong2*>(refs_.get());
    s.nr = static_cast<int64_t>(nr_);
    s.chunk_refs = chunk_refs;
    return s;
  }

  /// Sorts the `count` hits of the batch of n queries starting at query
  /// `first` and appends them to `out` (lims[q + 1] counts query q's hits;
  /// the caller turns the counts into offsets).
  void append_range_hits(size_t first, size_t n, uint64_t count, HammingRangeResult& out) {
    if (count == 0) return;
    // Keys are unique above the distance bits: sorting on query and ref only.
    const int begin_bit = 9;
    const int end_bit = kKeyQueryShift + hamming::query_bits(static_cast<int64_t>(n));
    sort_temp_.reserve(hamming::hamming_sort_temp_bytes(count, begin_bit, end_bit));
    hamming::launch_hamming_sort_async(sort_temp_.get(), sort_temp_.size(), hits_.get(),
                                       sorted_hits_.get(), count, begin_bit, end_bit, stream());
    host_keys_.resize(count);
    HM_CUDA_CHECK(cudaMemcpyAsync(host_keys_.data(), sorted_hits_.get(), sizeof(uint64_t) * count,
                                  cudaMemcpyDeviceToHost, stream()));
    HM_CUDA_CHECK(cudaStreamSynchronize(stream()));
    const size_t at = out.labels.size();
    out.labels.resize(at + count);
    out.distances.resize(at + count);
    for (size_t i = 0; i < count; ++i) {
      const uint64_t key = host_keys_[i];
      const uint64_t q = hamming::range_key_query(key);
      if (q >= n)
        throw std::logic_error("HammingGpuSearch: range hit of a query outside the batch");
      ++out.lims[first + q + 1];
      out.labels[at + i] = static_cast<int64_t>(hamming::range_key_ref(key));
      out.distances[at + i] = static_cast<int32_t>(hamming::range_key_distance(key));
    }
  }

  /// Decodes the n sorted rows of k keys in host_keys_.
  void write_knn_rows(size_t n, size_t k, int32_t* distances, int64_t* labels) const {
    for (size_t i = 0; i < n * k; ++i) {
      const uint64_t key = host_keys_[i];
      if (hamming::knn_key_query(key) != i / k)
        throw std::logic_error("HammingGpuSearch: top-k row out of place");
      const uint64_t d = hamming::knn_key_distance(key);
      const bool pad = d == hamming::kKnnPadDistanceField;
      distances[i] = pad ? kKnnPadDistance : static_cast<int32_t>(d);
      labels[i] = pad ? kKnnPadLabel : static_cast<int64_t>(hamming::knn_key_ref(key));
    }
  }

  HammingGpuOptions options_;
  CudaDeviceInfo info_;
  std::unique_ptr<Stream> stream_;
  DeviceBuffer<uint8_t> refs_;  // [capacity / 32][32]
  size_t nr_ = 0;
  DeviceBuffer<uint8_t> queries_;  // [batch][32]
  // Range search.
  DeviceBuffer<uint64_t> hits_;
  DeviceBuffer<uint64_t> sorted_hits_;
  DeviceBuffer<unsigned long long> hit_count_;
  DeviceBuffer<uint8_t> sort_temp_;
  // Top-k.
  DeviceBuffer<uint32_t> histogram_;
  DeviceBuffer<hamming::KnnCutoff> cutoff_;
  DeviceBuffer<uint32_t> fill_;
  DeviceBuffer<uint32_t> tie_offsets_;
  DeviceBuffer<uint64_t> knn_keys_;
  DeviceBuffer<uint64_t> knn_sorted_;
  std::vector<uint64_t> host_keys_;
  HammingGpuTiming timing_;
};

HammingGpuSearch::HammingGpuSearch(const HammingGpuOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}

HammingGpuSearch::~HammingGpuSearch() = default;

void HammingGpuSearch::set_references(const uint8_t* refs, size_t n) {
  impl_->clear_references();
  impl_->add_references(refs, n);
}

void HammingGpuSearch::add_references(const uint8_t* refs, size_t n) {
  impl_->add_references(refs, n);
}

void HammingGpuSearch::clear_references() { impl_->clear_references(); }

size_t HammingGpuSearch::reference_count() const { return impl_->reference_count(); }

size_t HammingGpuSearch::device_bytes() const { return impl_->device_bytes(); }

void HammingGpuSearch::range(const uint8_t* queries, size_t nq, int max_distance,
                             HammingRangeResult& out) {
  impl_->range(queries, nq, max_distance, out);
}

void HammingGpuSearch::knn(const uint8_t* queries, size_t nq, size_t k, int32_t* distances,
                           int64_t* labels) {
  impl_->knn(queries, nq, k, distances, labels);
}

const HammingGpuTiming& HammingGpuSearch::last_timing() const { return impl_->timing(); }

const CudaDeviceInfo& HammingGpuSearch::device() const { return impl_->info(); }

double HammingGpuSearch::popcount_ceiling() const { return impl_->popcount_ceiling(); }

}  // namespace hm
