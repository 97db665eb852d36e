#include "backend.hpp"

#include <faiss/IndexBinary.h>

#include <stdexcept>

#include "file_hasher.hpp"
#include "hash_record.hpp"
#include "preresize_sink.hpp"

#if HM_HAS_CUDA
#include "index_cuda_flat.hpp"
#include "pdq_gpu.hpp"
#endif

namespace hm {

BackendChoice parse_backend_choice(const std::string& text) {
  if (text == "auto") return BackendChoice::Auto;
  if (text == "cpu") return BackendChoice::Cpu;
  if (text == "cuda") return BackendChoice::Cuda;
  throw std::invalid_argument("unknown backend '" + text + "' (auto, cpu, cuda)");
}

const char* backend_name(Backend backend) { return backend == Backend::Cuda ? "cuda" : "cpu"; }

bool cuda_compiled() {
#if HM_HAS_CUDA
  return true;
#else
  return false;
#endif
}

std::vector<GpuDevice> gpu_devices() {
  std::vector<GpuDevice> out;
#if HM_HAS_CUDA
  for (const CudaDeviceInfo& d : cuda_devices())
    out.push_back(GpuDevice{d.index, d.name, d.compute_major, d.compute_minor, d.multiprocessors, d.memory_bytes});
#endif
  return out;
}

Backend resolve_backend(BackendChoice choice) {
  if (choice == BackendChoice::Cpu) return Backend::Cpu;
  const bool have_gpu = cuda_compiled() && !gpu_devices().empty();
  if (choice == BackendChoice::Auto) return have_gpu ? Backend::Cuda : Backend::Cpu;
  if (!cuda_compiled())
    throw std::runtime_error("--backend cuda: this build has no CUDA backend (built without nvcc)");
  if (!have_gpu) throw std::runtime_error("--backend cuda: no CUDA device is available");
  return Backend::Cuda;
}

std::unique_ptr<faiss::IndexBinary> make_cuda_flat_index(int d) {
#if HM_HAS_CUDA
  return std::make_unique<CudaFlatIndex>(d);
#else
  (void)d;
  throw std::runtime_error("index type cuda-flat needs the CUDA backend, which this build does not have");
#endif
}

#if HM_HAS_CUDA
namespace {

/// GpuPdqHasher on PdqGpuBatcher: the pre-resized images go up as they are
/// (at most 512 x 512, so the device's own pre-resize is the identity) with
/// the grey rule already settled on the host, where every pixel was seen.
class CudaPdqHasher final : public GpuPdqHasher {
 public:
  void hash(const std::vector<HashRecord*>& records, bool dihedral) override {
    inputs_.clear();
    targets_.clear();
    for (HashRecord* record : records) {
      if (record == nullptr || !record->pdq_pending) continue;
      const PreresizedImage& image = *record->pdq_pending;
      if (pdq::pdq_below_min_size(image.width, image.height, result_)) {
        // Nothing to compute: the reference's fixed answer, without a trip to the device.
        set_pdq_result(result_, dihedral, *record);
        record->pdq_pending.reset();
        continue;
      }
      PdqGpuInput in;
      in.pixels = image.pixels.data();
      in.width = image.width;
      in.height = image.height;
      in.layout = image.layout;
      in.grey = image.grey && image.layout != pdq::PixelLayout::Grey;
      in.detect_grey = false;
      inputs_.push_back(in);
      targets_.push_back(record);
    }
    if (inputs_.empty()) return;
    batcher_.hash_batch(inputs_, dihedral, results_);
    for (size_t i = 0; i < targets_.size(); ++i) {
      set_pdq_result(results_[i], dihedral, *targets_[i]);
      targets_[i]->pdq_pending.reset();
    }
  }

  const std::string& device_name() const override { return batcher_.device().name; }

 private:
  PdqGpuBatcher batcher_;
  std::vector<PdqGpuInput> inputs_;
  std::vector<HashRecord*> targets_;  ///< the record of each input
  std::vector<pdq::PdqResult> results_;
  pdq::PdqResult result_;
};

}  // namespace
#endif

std::unique_ptr<GpuPdqHasher> GpuPdqHasher::create() {
#if HM_HAS_CUDA
  if (!cuda_device_available()) throw std::runtime_error("GPU PDQ hashing: no CUDA device is available");
  return std::make_unique<CudaPdqHasher>();
#else
  throw std::runtime_error("GPU PDQ hashing needs the CUDA backend, which this build does not have");
#endif
}

std::vector<std::pair<std::string, std::string>> build_facts() {
  std::vector<std::pair<std::string, std::string>> facts;
  facts.emplace_back("version", HM_VERSION);
#if defined(__clang__)
  facts.emplace_back("compiler", "clang " __clang_version__);
#elif defined(__GNUC__)
  facts.emplace_back("compiler", "gcc " __VERSION__);
#endif
#if HM_HAS_CUDA
  facts.emplace_back("cuda", "compiled in (architectures " HM_CUDA_ARCHITECTURES ")");
#else
  facts.emplace_back("cuda", "not compiled in");
#endif
  return facts;
}

}  // namespace hm
