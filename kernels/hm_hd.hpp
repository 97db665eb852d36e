// Marks functions shared by host and device code.
//
// Under nvcc, HM_HD is __host__ __device__ so the CUDA kernels and the CPU
// path call one definition of every per-element formula. Elsewhere it is a
// plain inline function.
#pragma once

#if defined(__CUDACC__)
#define HM_HD __host__ __device__ __forceinline__
#else
#define HM_HD inline
#endif

namespace hm {

/// Float multiply and add that are never fused into an FMA, on either side.
/// The reference PDQ is built without FMA; fusing changes bits.
HM_HD float fmul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;  // host code is compiled with -ffp-contract=off
#endif
}

HM_HD float fadd(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

HM_HD float fsub(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

}  // namespace hm
