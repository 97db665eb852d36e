// The CUDA backend's batcher: staging, uploads, launches and results around
// the kernels of pdq_cuda.cu.
#include "pdq_gpu.hpp"

#include <string.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "cuda_check.cuh"
#include "cuda_resources.cuh"
#include "pdq_cuda.cuh"

namespace hm {

namespace {

using pdq::PdqBatchArgs;
using pdq::PdqDeviceResult;
using pdq::PdqImageDesc;
using cuda::DeviceBuffer;
using cuda::elapsed_ms;
using cuda::Event;
using cuda::PinnedBuffer;
using cuda::Stream;

/// Device offsets are aligned so every image starts on a fresh cache line.
constexpr size_t kAlign = 256;

size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

/// Bytes per pixel of the layouts the GPU reads.
int32_t gpu_layout(pdq::PixelLayout layout) {
  switch (layout) {
    case pdq::PixelLayout::Grey: return pdq::kLayoutGrey;
    case pdq::PixelLayout::Rgb: return pdq::kLayoutRgb;
    case pdq::PixelLayout::Rgbx: return pdq::kLayoutRgbx;
    case pdq::PixelLayout::Cmyk: return pdq::kLayoutCmyk;
  }
  throw std::invalid_argument("PdqGpuInput: unknown pixel layout");
}

size_t image_bytes(const PdqGpuInput& in) {
  return (size_t)in.width * (size_t)in.height * (size_t)pdq::bytes_per_pixel(in.layout);
}

void check_input(const PdqGpuInput& in, size_t index) {
  if (in.width <= 0 || in.height <= 0 || in.pixels == nullptr)
    throw std::invalid_argument("PdqGpuInput " + std::to_string(index) +
                                ": needs pixels and a positive width and height");
}

PdqImageDesc describe(const PdqGpuInput& in, uint64_t offset) {
  PdqImageDesc d{};
  d.offset = offset;
  d.width = in.width;
  d.height = in.height;
  d.layout = gpu_layout(in.layout);
  d.grey = in.grey ? pdq::kGreyAlways : in.detect_grey ? pdq::kGreyDetect : pdq::kGreyNever;
  return d;
}

bool needs_colour_scan(const PdqImageDesc& d) {
  return d.grey == pdq::kGreyDetect && d.layout != pdq::kLayoutGrey;
}

void to_result(const PdqDeviceResult& r, bool dihedral, pdq::PdqResult& out) {
  out = pdq::PdqResult{};
  out.below_min_size = r.below_min_size != 0;
  out.quality = r.quality;
  memcpy(out.hash.data(), r.hash, pdq::kHashBytes);
  if (dihedral)
    for (int t = 0; t < pdq::kDihedralCount; ++t)
      memcpy(out.dihedral[t].data(), r.dihedral[t], pdq::kHashBytes);
}

}  // namespace

bool cuda_device_available() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();  // leave no error behind for the next check
    return false;
  }
  return count > 0;
}

std::vector<CudaDeviceInfo> cuda_devices() {
  std::vector<CudaDeviceInfo> devices;
  if (!cuda_device_available()) return devices;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) return devices;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
      (void)cudaGetLastError();
      continue;
    }
    devices.push_back(cuda::device_info_of(i, p));
  }
  return devices;
}

/// One stream's buffers: a chunk is staged, uploaded, hashed and copied back
/// here while the other slot does the same for the next chunk.
struct Slot {
  Stream stream;
  Event done;  ///< recorded after the chunk's results reach the host
  PinnedBuffer<uint8_t> staging;
  DeviceBuffer<uint8_t> pixels;
  PinnedBuffer<PdqImageDesc> desc_host;
  DeviceBuffer<PdqImageDesc> desc;
  DeviceBuffer<uint32_t> colour;
  DeviceBuffer<PdqDeviceResult> results;
  PinnedBuffer<PdqDeviceResult> results_host;
  DeviceBuffer<float> scratch;
  // The chunk in flight, if any.
  bool busy = false;
  size_t first = 0;  ///< its first input
  int count = 0;
};

class PdqGpuBatcher::Impl {
 public:
  explicit Impl(const PdqGpuOptions& options) : options_(options) {
    if (options_.max_images_per_chunk <= 0 || options_.staging_bytes == 0)
      throw std::invalid_argument("PdqGpuOptions: chunks need room for at least one image");
    for (const CudaDeviceInfo& d : cuda_devices())
      if (d.index == options_.device) info_ = d;
    if (info_.name.empty())
      throw std::invalid_argument("PdqGpuOptions: no CUDA device " + std::to_string(options_.device));
    HM_CUDA_CHECK(cudaSetDevice(options_.device));
    blocks_ = pdq::pdq_batch_max_resident_blocks(options_.device);
    if (options_.max_blocks > 0) blocks_ = std::min(blocks_, options_.max_blocks);

    // Constants every launch reads: the DCT matrix and the CMYK table, the
    // very tables the CPU path uses.
    dct_.reserve(pdq::kDct * pdq::kGrid);
    HM_CUDA_CHECK(cudaMemcpy(dct_.get(), pdq::dct_matrix().data(), sizeof(float) * pdq::kDct * pdq::kGrid,
                             cudaMemcpyHostToDevice));
    std::vector<uint8_t> cmyk(256 * 256);
    for (unsigned ink = 0; ink < 256; ++ink)
      for (unsigned black = 0; black < 256; ++black) cmyk[ink * 256 + black] = pdq::cmyk_to_rgb(ink, black);
    cmyk_.reserve(cmyk.size());
    HM_CUDA_CHECK(cudaMemcpy(cmyk_.get(), cmyk.data(), cmyk.size(), cudaMemcpyHostToDevice));

    const size_t images = (size_t)options_.max_images_per_chunk;
    for (Slot& s : slots_) {
      s.staging.reserve(options_.staging_bytes);
      s.pixels.reserve(options_.staging_bytes);
      s.desc_host.reserve(images);
      s.desc.reserve(images);
      s.colour.reserve(images);
      s.results.reserve(images);
      s.results_host.reserve(images);
      s.scratch.reserve((size_t)blocks_ * pdq::kPdqScratchFloatsPerBlock);
    }
  }

  ~Impl() {
    // Buffers must outlive the work that uses them.
    for (Slot& s : slots_) HM_CUDA_CHECK_NO_THROW(cudaStreamSynchronize(s.stream.get()));
  }

  void hash_batch(const std::vector<PdqGpuInput>& inputs, bool dihedral,
                  std::vector<pdq::PdqResult>& results) {
    for (size_t i = 0; i < inputs.size(); ++i) check_input(inputs[i], i);
    HM_CUDA_CHECK(cudaSetDevice(options_.device));
    results.assign(inputs.size(), pdq::PdqResult{});
    timing_ = PdqGpuTiming{};
    cudaStream_t first_stream = slots_[0].stream.get();
    HM_CUDA_CHECK(cudaEventRecord(start_.get(), first_stream));
    size_t next = 0;
    int s = 0;
    bool used_second = false;
    try {
      while (next < inputs.size()) {
        Slot& slot = slots_[s];
        collect(slot, dihedral, results);  // the slot's previous chunk, before its buffers are reused
        next = stage_and_launch(slot, inputs, next, dihedral);
        ++timing_.chunks;
        used_second = used_second || s == 1;
        s ^= 1;
      }
      // The stop event follows both streams' work.
      if (used_second) HM_CUDA_CHECK(cudaStreamWaitEvent(first_stream, slots_[1].done.get(), 0));
      HM_CUDA_CHECK(cudaEventRecord(stop_.get(), first_stream));
      for (Slot& slot : slots_) collect(slot, dihedral, results);
      HM_CUDA_CHECK(cudaEventSynchronize(stop_.get()));
    } catch (...) {
      // Leave no chunk in flight that reads buffers a later call may refill.
      for (Slot& slot : slots_) {
        HM_CUDA_CHECK_NO_THROW(cudaStreamSynchronize(slot.stream.get()));
        slot.busy = false;
      }
      throw;
    }
    timing_.device_ms = elapsed_ms(start_, stop_);
  }

  void set_resident(const std::vector<PdqGpuInput>& inputs) {
    for (size_t i = 0; i < inputs.size(); ++i) check_input(inputs[i], i);
    HM_CUDA_CHECK(cudaSetDevice(options_.device));
    std::vector<PdqImageDesc> desc(inputs.size());
    size_t bytes = 0;
    resident_max_pixels_ = 0;
    resident_scan_ = false;
    for (size_t i = 0; i < inputs.size(); ++i) {
      desc[i] = describe(inputs[i], bytes);
      bytes += align_up(image_bytes(inputs[i]));
      resident_max_pixels_ = std::max(resident_max_pixels_, (int64_t)inputs[i].width * inputs[i].height);
      resident_scan_ = resident_scan_ || needs_colour_scan(desc[i]);
    }
    resident_pixels_.reserve(std::max<size_t>(bytes, 1));
    for (size_t i = 0; i < inputs.size(); ++i)
      HM_CUDA_CHECK(cudaMemcpy(resident_pixels_.get() + desc[i].offset, inputs[i].pixels,
                               image_bytes(inputs[i]), cudaMemcpyHostToDevice));
    const size_t n = std::max<size_t>(inputs.size(), 1);
    resident_desc_.reserve(n);
    resident_colour_.reserve(n);
    resident_results_.reserve(n);
    resident_results_host_.reserve(n);
    HM_CUDA_CHECK(cudaMemcpy(resident_desc_.get(), desc.data(), sizeof(PdqImageDesc) * desc.size(),
                             cudaMemcpyHostToDevice));
    resident_count_ = (int)inputs.size();
  }

  double hash_resident(bool dihedral, std::vector<pdq::PdqResult>& results) {
    HM_CUDA_CHECK(cudaSetDevice(options_.device));
    Slot& slot = slots_[0];  // idle: hash_batch leaves nothing in flight
    PdqBatchArgs a = args(slot, dihedral);
    a.images = resident_desc_.get();
    a.count = resident_count_;
    a.pixels = resident_pixels_.get();
    a.colour = resident_colour_.get();
    a.results = resident_results_.get();
    a.max_source_pixels = resident_max_pixels_;
    cudaStream_t stream = slot.stream.get();
    HM_CUDA_CHECK(cudaEventRecord(start_.get(), stream));
    if (resident_scan_) pdq::launch_pdq_detect_colour_async(a, stream);
    pdq::launch_pdq_batch_async(a, stream);
    HM_CUDA_CHECK(cudaEventRecord(stop_.get(), stream));
    if (resident_count_ > 0)
      HM_CUDA_CHECK(cudaMemcpyAsync(resident_results_host_.get(), a.results,
                                    sizeof(PdqDeviceResult) * resident_count_, cudaMemcpyDeviceToHost,
                                    stream));
    HM_CUDA_CHECK(cudaStreamSynchronize(stream));
    results.resize(resident_count_);
    for (int i = 0; i < resident_count_; ++i) to_result(resident_results_host_.get()[i], dihedral, results[i]);
    return elapsed_ms(start_, stop_);
  }

  const PdqGpuTiming& timing() const { return timing_; }
  const CudaDeviceInfo& info() const { return info_; }

 private:
  PdqBatchArgs args(Slot& slot, bool dihedral) const {
    PdqBatchArgs a;
    a.cmyk_table = cmyk_.get();
    a.dct = dct_.get();
    a.scratch = slot.scratch.get();
    a.scratch_blocks = blocks_;
    a.dihedral = dihedral;
    return a;
  }

  /// Waits for the slot's chunk (if any) and converts its results.
  void collect(Slot& slot, bool dihedral, std::vector<pdq::PdqResult>& results) {
    if (!slot.busy) return;
    HM_CUDA_CHECK(cudaEventSynchronize(slot.done.get()));
    slot.busy = false;
    for (int i = 0; i < slot.count; ++i)
      to_result(slot.results_host.get()[i], dihedral, results[slot.first + i]);
  }

  /// Takes inputs from `next` while they fit the slot's staging, copies them
  /// in, and queues upload, hashing and download on the slot's stream.
  /// Returns the first input not taken.
  size_t stage_and_launch(Slot& slot, const std::vector<PdqGpuInput>& inputs, size_t next, bool dihedral) {
    size_t end = next;
    size_t bytes = 0;
    while (end < inputs.size() && end - next < (size_t)options_.max_images_per_chunk) {
      const size_t b = align_up(image_bytes(inputs[end]));
      if (end > next && bytes + b > slot.staging.size()) break;
      bytes += b;
      ++end;
    }
    // Only an image larger than the staging buffer on its own makes it grow.
    slot.staging.reserve(bytes);
    slot.pixels.reserve(bytes);

    const int count = (int)(end - next);
    PdqImageDesc* desc = slot.desc_host.get();
    int64_t max_pixels = 0;
    bool scan = false;
    size_t offset = 0;
    for (int i = 0; i < count; ++i) {
      const PdqGpuInput& in = inputs[next + i];
      desc[i] = describe(in, offset);
      memcpy(slot.staging.get() + offset, in.pixels, image_bytes(in));
      offset += align_up(image_bytes(in));
      max_pixels = std::max(max_pixels, (int64_t)in.width * in.height);
      scan = scan || needs_colour_scan(desc[i]);
    }

    cudaStream_t stream = slot.stream.get();
    HM_CUDA_CHECK(cudaMemcpyAsync(slot.pixels.get(), slot.staging.get(), bytes, cudaMemcpyHostToDevice, stream));
    HM_CUDA_CHECK(cudaMemcpyAsync(slot.desc.get(), desc, sizeof(PdqImageDesc) * count,
                                  cudaMemcpyHostToDevice, stream));
    PdqBatchArgs a = args(slot, dihedral);
    a.images = slot.desc.get();
    a.count = count;
    a.pixels = slot.pixels.get();
    a.colour = slot.colour.get();
    a.results = slot.results.get();
    a.max_source_pixels = max_pixels;
    if (scan) pdq::launch_pdq_detect_colour_async(a, stream);
    pdq::launch_pdq_batch_async(a, stream);
    HM_CUDA_CHECK(cudaMemcpyAsync(slot.results_host.get(), a.results, sizeof(PdqDeviceResult) * count,
                                  cudaMemcpyDeviceToHost, stream));
    HM_CUDA_CHECK(cudaEventRecord(slot.done.get(), stream));
    slot.busy = true;
    slot.first = next;
    slot.count = count;
    return end;
  }

  PdqGpuOptions options_;
  CudaDeviceInfo info_;
  int blocks_ = 0;
  DeviceBuffer<float> dct_;
  DeviceBuffer<uint8_t> cmyk_;
  Slot slots_[2];
  Event start_;
  Event stop_;
  PdqGpuTiming timing_;
  // The resident batch.
  DeviceBuffer<uint8_t> resident_pixels_;
  DeviceBuffer<PdqImageDesc> resident_desc_;
  DeviceBuffer<uint32_t> resident_colour_;
  DeviceBuffer<PdqDeviceResult> resident_results_;
  PinnedBuffer<PdqDeviceResult> resident_results_host_;
  int resident_count_ = 0;
  int64_t resident_max_pixels_ = 0;
  bool resident_scan_ = false;
};

PdqGpuBatcher::PdqGpuBatcher(const PdqGpuOptions& options) : impl_(std::make_unique<Impl>(options)) {}
PdqGpuBatcher::~PdqGpuBatcher() = default;

void PdqGpuBatcher::hash_batch(const std::vector<PdqGpuInput>& inputs, bool dihedral,
                               std::vector<pdq::PdqResult>& results) {
  impl_->hash_batch(inputs, dihedral, results);
}

const PdqGpuTiming& PdqGpuBatcher::last_timing() const { return impl_->timing(); }

void PdqGpuBatcher::set_resident(const std::vector<PdqGpuInput>& inputs) { impl_->set_resident(inputs); }

double PdqGpuBatcher::hash_resident(bool dihedral, std::vector<pdq::PdqResult>& results) {
  return impl_->hash_resident(dihedral, results);
}

const CudaDeviceInfo& PdqGpuBatcher::device() const { return impl_->info(); }

}  // namespace hm
