#include "backend.hpp"

#include <faiss/IndexBinary.h>

#include <stdexcept>

#if HM_HAS_CUDA
#include "pdq_gpu.hpp"
#if __has_include("index_cuda_flat.hpp")
#define HM_HAS_CUDA_FLAT 1
#include "index_cuda_flat.hpp"
#endif
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
#if HM_HAS_CUDA_FLAT
  return std::make_unique<CudaFlatIndex>(d);
#else
  (void)d;
  throw std::runtime_error("index type cuda-flat needs the CUDA backend, which this build does not have");
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
