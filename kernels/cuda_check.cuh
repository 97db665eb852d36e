// CUDA error checking that carries its place. Private to the CUDA backend:
// this header includes cuda_runtime.h, so only .cu/.cuh files and the
// backend's own .cpp files may include it (public headers stay CUDA-free).
#pragma once

#include <cuda_runtime.h>
#include <stdio.h>

#include <stdexcept>
#include <string>

namespace hm {

/// A failed CUDA runtime call: what() names the expression, the CUDA error
/// and where it was checked, so a caller can report which batch failed.
class CudaError : public std::runtime_error {
 public:
  CudaError(cudaError_t code, const char* expression, const char* file, int line)
      : std::runtime_error(std::string("CUDA error: ") + cudaGetErrorName(code) + " (" +
                           cudaGetErrorString(code) + ") in " + expression + " at " + file + ":" +
                           std::to_string(line)),
        code_(code) {}
  /// The runtime's error code.
  cudaError_t code() const noexcept { return code_; }

 private:
  cudaError_t code_;
};

namespace detail {

inline void cuda_check(cudaError_t code, const char* expression, const char* file, int line) {
  if (code != cudaSuccess) throw CudaError(code, expression, file, line);
}

/// Destructors must not throw: report to stderr and carry on.
inline void cuda_check_no_throw(cudaError_t code, const char* expression, const char* file,
                                int line) noexcept {
  if (code != cudaSuccess)
    fprintf(stderr, "hashmatch: CUDA error: %s (%s) in %s at %s:%d\n", cudaGetErrorName(code),
            cudaGetErrorString(code), expression, file, line);
}

}  // namespace detail

}  // namespace hm

/// Throws hm::CudaError when `expr` (a cudaError_t) is not cudaSuccess.
#define HM_CUDA_CHECK(expr) ::hm::detail::cuda_check((expr), #expr, __FILE__, __LINE__)

/// For destructors and other no-throw paths: logs a failure to stderr instead.
#define HM_CUDA_CHECK_NO_THROW(expr) \
  ::hm::detail::cuda_check_no_throw((expr), #expr, __FILE__, __LINE__)

/// After a kernel launch: a bad configuration surfaces here (cudaGetLastError);
/// faults inside the kernel surface at the next synchronising check.
#define HM_CUDA_CHECK_LAUNCH() HM_CUDA_CHECK(cudaGetLastError())
