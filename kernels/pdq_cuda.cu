// PDQ on the GPU: one block per image (blocks loop over the batch), bit for
// bit the CPU path. See pdq_cuda.cuh for the launchers.
//
// The blur is four passes of the reference's sequential box filter: rows,
// columns, rows, columns. Every pass is the same routine, filter_lines: one
// thread per line, walking it in order (the running sum's rounding is part of
// the hash, so a line cannot be split), reading a row-major matrix whose rows
// are the lines and writing its output transposed. Writing transposed is what
// makes the next pass's lines the rows of its input, so all four passes read
// rows and all global accesses are coalesced:
//
//   luma (y, x)      --rows-->    A [w][h]  --columns-->  B [h][w]
//   B                --rows-->    A [64][h] (sampled columns only)
//   A [64][h]        --columns--> grid [64][64] (sampled rows only), in shared memory
//
// A warp takes 32 lines and walks them 32 positions at a time: the 32 x 32
// tile goes through shared memory (padded, so loading rows and reading
// columns are both free of bank conflicts). Planes A and B live in global
// scratch, one pair per block; a 512 x 512 plane (1 MiB) is far beyond
// shared memory.
#include "pdq_cuda.cuh"

#include <cub/block/block_reduce.cuh>

#include "cuda_check.cuh"
#include "pdq_math.hpp"

namespace hm::pdq {

namespace {

constexpr int kThreads = 512;              ///< one block per image: 16 warps
constexpr int kWarpSize = 32;
constexpr int kWarps = kThreads / kWarpSize;
constexpr int kTileStride = kWarpSize + 1;  ///< padding: rows and columns hit distinct banks
constexpr int kTileFloats = kWarpSize * kTileStride;
constexpr int kCoeffs = kDct * kDct;
constexpr int kTStride = kGrid + 1;  ///< T = D A rows, padded against bank conflicts
constexpr int kMedianRank = kCoeffs / 2 - 1;  ///< sorted[127]: the reference's lower median
constexpr unsigned kFullMask = 0xffffffffu;

/// Shared memory of the hashing phase; it reuses the tiles' space.
struct HashScratch {
  float raw[kGrid * kGrid];               ///< 64 x 64 images: the unblurred luma
  float t[kDct * kTStride];               ///< T = D A, [16][64] padded
  float coeffs[2][kCoeffs];               ///< B = T D^T: [0] plain, [1] blurred (64 x 64 dihedral)
  float values[2][kCoeffs];               ///< two transforms' permuted, signed coefficients
};

/// The batch kernel's dynamic shared memory.
struct Shared {
  union {
    float tiles[kWarps][kTileFloats];  ///< one transposition tile per warp (filter passes)
    HashScratch hash;                  ///< after the passes
  } u;
  float grid[kGrid * kGrid];  ///< blurred and sampled, [64][64]
  float dct[kDct * kGrid];    ///< D, [16][64]
  float dct_t[kGrid * kDct];  ///< D^T, [64][16]
  int sample_cols[kGrid];     ///< sample_index(j, w)
  int sample_rows[kGrid];     ///< sample_index(i, h)
  int median_index[2];
};
static_assert(sizeof(HashScratch) <= sizeof(float) * kWarps * kTileFloats,
              "the hashing phase must fit in the tiles' space");

using QualityReduce = cub::BlockReduce<int, kThreads>;

/// sum / count as the reference divides. A power-of-two count gives the same
/// bits through its (exact) reciprocal: both round the same real number once.
__device__ __forceinline__ float box_mean(float sum, int count) {
  if ((count & (count - 1)) == 0) return __fmul_rn(sum, __frcp_rn((float)count));
  return __fdiv_rn(sum, (float)count);
}

/// box_filter_line (pdq_math.hpp) fed one input at a time. Input k is added
/// when it arrives; output i = k - lead is ready once input i + lead has
/// arrived, after subtracting input k - window (= i - lag - 1): the
/// reference's exact sequence of adds and subtracts, and the same counts.
/// Inputs n .. n + lead - 1 are past the end (not added) and only drain the
/// outputs. The last `window` inputs stay in registers: windows are at most 4
/// because sides are at most 512 after the pre-resize.
class LineFilter {
 public:
  __device__ LineFilter(int n, int window)
      : n_(n), window_(window), lead_(box_span(window).lead) {}

  /// Feeds input k (its value x when k < n). True when output k - lead is ready.
  __device__ __forceinline__ bool push(int k, float x) {
    if (k < n_) {
      sum_ = fadd(sum_, x);
      ++count_;
    }
    bool ready = false;
    if (k >= lead_) {
      if (k >= window_) {
        sum_ = fsub(sum_, oldest());
        --count_;
      }
      ready = true;
    }
    h3_ = h2_;
    h2_ = h1_;
    h1_ = h0_;
    h0_ = x;
    return ready;
  }
  /// The ready output's value.
  __device__ __forceinline__ float mean() const { return box_mean(sum_, count_); }
  __device__ __forceinline__ int lead() const { return lead_; }

 private:
  /// Input k - window, before this push shifts the history.
  __device__ __forceinline__ float oldest() const {
    return window_ == 1 ? h0_ : window_ == 2 ? h1_ : window_ == 3 ? h2_ : h3_;
  }

  int n_;
  int window_;
  int lead_;
  float sum_ = 0.0f;
  int count_ = 0;
  float h0_ = 0.0f, h1_ = 0.0f, h2_ = 0.0f, h3_ = 0.0f;  ///< inputs k-1 .. k-4
};

/// Luma of the pre-resized image at (y, x): the source pixel the reference's
/// nearest-neighbour resize picks, through luma_rgb, and the grey rule.
struct LumaSource {
  const uint8_t* pixels;  ///< source [src_h][src_w][bytes per pixel]
  int src_w;
  int src_h;
  bool resized;
  int layout;
  bool grey;
  const uint8_t* cmyk;  ///< [256 * 256]

  __device__ __forceinline__ float operator()(int y, int x) const {
    const int sy = resized ? preresize_source_index(y, src_h) : y;
    const int sx = resized ? preresize_source_index(x, src_w) : x;
    const size_t index = (size_t)sy * src_w + sx;
    if (layout == kLayoutGrey) return (float)__ldg(pixels + index);
    const uint8_t* p = pixels + index * (layout == kLayoutRgb ? 3 : 4);
    unsigned r = __ldg(p), g = __ldg(p + 1), b = __ldg(p + 2);
    if (layout == kLayoutCmyk) {
      const unsigned k = __ldg(p + 3);
      r = __ldg(cmyk + r * 256 + k);
      g = __ldg(cmyk + g * 256 + k);
      b = __ldg(cmyk + b * 256 + k);
    }
    const float luma = luma_rgb((float)r, (float)g, (float)b);
    // The CPU computes every luma through the weights and rounds them back
    // to the grey value once it knows the image is grey (luma_rgb_to_grey_cpu).
    return grey ? rintf(luma) : luma;
  }
};

/// A row-major float matrix [lines][len] in global scratch. Written earlier in
/// this same kernel, so plain loads: the read-only (nc) path is not coherent
/// with writes made during the kernel.
struct PlaneSource {
  const float* plane;
  int len;
  __device__ __forceinline__ float operator()(int line, int pos) const {
    return plane[(size_t)line * len + pos];
  }
};

/// Box-filters `nlines` lines of length `len` (line l, position p is in(l, p))
/// with `window`, one thread per line, and writes the output transposed:
/// out[p * nlines + l] for every position, or with `samples` (64 sorted
/// positions, repeats allowed) out[j * nlines + l] for each j whose
/// samples[j] is p. Warp-synchronous: every lane of a warp takes the same
/// branches, so the tile needs only __syncwarp.
template <typename Source>
__device__ void filter_lines(const Source& in, int nlines, int len, int window,
                             const int* samples, float* out, float* tile) {
  const int lane = threadIdx.x % kWarpSize;
  for (int line0 = (int)(threadIdx.x / kWarpSize) * kWarpSize; line0 < nlines;
       line0 += kThreads) {
    const int line = line0 + lane;
    const bool writes = line < nlines;
    LineFilter filter(len, window);
    int next_sample = 0;  // samples are sorted and outputs arrive in order: a cursor suffices
    auto emit = [&](int i) {
      if (samples == nullptr) {
        if (writes) out[(size_t)i * nlines + line] = filter.mean();
        return;
      }
      if (next_sample >= kGrid || samples[next_sample] != i) return;
      const float v = filter.mean();
      for (; next_sample < kGrid && samples[next_sample] == i; ++next_sample)
        if (writes) out[(size_t)next_sample * nlines + line] = v;
    };
    for (int c0 = 0; c0 < len; c0 += kWarpSize) {
      __syncwarp();  // every lane is done reading the previous tile
      // Lane = position: each row of the tile is one coalesced read of a line.
      const int pos = c0 + lane;
      for (int r = 0; r < kWarpSize; ++r) {
        const int l = line0 + r;
        tile[lane * kTileStride + r] = (l < nlines && pos < len) ? in(l, pos) : 0.0f;
      }
      __syncwarp();
      // Lane = line: walk this chunk of the line in order.
      const int chunk = min(kWarpSize, len - c0);
#pragma unroll 4
      for (int kk = 0; kk < chunk; ++kk)
        if (filter.push(c0 + kk, tile[kk * kTileStride + lane])) emit(c0 + kk - filter.lead());
    }
    for (int k = len; k < len + filter.lead(); ++k)
      if (filter.push(k, 0.0f)) emit(k - filter.lead());
  }
}

/// B = D A Dt for a 64 x 64 grid `a` into `b` [16][16], summing k = 0..63 in
/// order exactly as pdq_dct16 does. Every thread calls it; ends synchronised.
__device__ void dct16(const Shared& s, const float* a, float* t, float* b) {
  const int tid = threadIdx.x;
  // T = D A: thread (u, x) for u = tid / 64, tid / 64 + 8. A warp shares u,
  // so D is a broadcast and A's row a contiguous read.
  const int x = tid % kGrid;
  for (int u = tid / kGrid; u < kDct; u += kThreads / kGrid) {
    float acc = 0.0f;
    for (int k = 0; k < kGrid; ++k) acc = fadd(acc, fmul(s.dct[u * kGrid + k], a[k * kGrid + x]));
    t[u * kTStride + x] = acc;
  }
  __syncthreads();
  // B = T D^T: thread (u, v) for the first 256 threads.
  if (tid < kCoeffs) {
    const int u = tid / kDct;
    const int v = tid % kDct;
    float acc = 0.0f;
    for (int k = 0; k < kGrid; ++k) acc = fadd(acc, fmul(t[u * kTStride + k], s.dct_t[k * kDct + v]));
    b[u * kDct + v] = acc;
  }
  __syncthreads();
}

/// One set of bits to produce: transform `transform` of `coeffs`, into
/// `dest` (and `also`, when not null).
struct BitsJob {
  const float* coeffs;
  int transform;
  uint8_t* dest;
  uint8_t* also;
};

/// The jobs of one image, in order: with dihedral, the 8 transforms of the
/// blurred coefficients, plus the plain hash from the unblurred ones for 64 x
/// 64 images (elsewhere the plain hash is dihedral[0]); without, the plain hash.
__device__ BitsJob bits_job(int job, bool dihedral, bool unblurred, HashScratch& hs,
                            PdqDeviceResult& out) {
  if (!dihedral) return BitsJob{hs.coeffs[0], 0, out.hash, nullptr};
  if (job == kDihedralCount) return BitsJob{hs.coeffs[0], 0, out.hash, nullptr};
  const float* blurred = unblurred ? hs.coeffs[1] : hs.coeffs[0];
  return BitsJob{blurred, job, out.dihedral[job], (!unblurred && job == 0) ? out.hash : nullptr};
}

/// Median and bits for every job, two jobs at a time (256 threads each).
/// The median is the value of rank 127 (pdq_bits' nth_element): an element
/// with fewer than 128 values below it and at least 128 at or below it.
__device__ void hash_bits(Shared& s, bool dihedral, bool unblurred, PdqDeviceResult& out) {
  HashScratch& hs = s.u.hash;
  const int tid = threadIdx.x;
  const int half = tid / kCoeffs;  // which of the round's two jobs
  const int k = tid % kCoeffs;     // bit index 16 u + v of this thread
  const int jobs = dihedral ? (unblurred ? kDihedralCount + 1 : kDihedralCount) : 1;
  for (int first = 0; first < jobs; first += 2) {
    const int job = first + half;
    const bool active = job < jobs;  // uniform across each warp (256 = 8 whole warps)
    float v = 0.0f;
    BitsJob b{};
    if (active) {
      b = bits_job(job, dihedral, unblurred, hs, out);
      const DihedralSource src = dihedral_source(b.transform, k / kDct, k % kDct);
      v = b.coeffs[src.u * kDct + src.v];
      if (src.negate) v = -v;
      hs.values[half][k] = v;
    }
    if (k == 0) s.median_index[half] = kCoeffs;
    __syncthreads();
    if (active) {
      int below = 0, at_or_below = 0;
      for (int j = 0; j < kCoeffs; ++j) {
        const float o = hs.values[half][j];  // the same address across the warp: a broadcast
        below += o < v ? 1 : 0;
        at_or_below += o <= v ? 1 : 0;
      }
      // Every such element compares equal to the median; take the first.
      if (below <= kMedianRank && at_or_below > kMedianRank) atomicMin(&s.median_index[half], k);
    }
    __syncthreads();
    if (active) {
      const float median = hs.values[half][s.median_index[half]];
      const unsigned mask = __ballot_sync(kFullMask, v > median);
      // Lane l of the warp holding bits 32 q .. 32 q + 31 is bit k = 32 q + l,
      // which lives in byte hash_byte_of_bit(k) at hash_shift_of_bit(k).
      if (k % kWarpSize == 0) {
        for (int byte = 0; byte < 4; ++byte) {
          const uint8_t value = (uint8_t)(mask >> (8 * byte));
          const int at = hash_byte_of_bit(k + 8 * byte);
          b.dest[at] = value;
          if (b.also) b.also[at] = value;
        }
      }
    }
    __syncthreads();  // values and median_index are rewritten by the next round
  }
}

/// Hashes image `img` with the whole block.
__device__ void hash_image(const PdqBatchArgs& a, int img, Shared& s,
                           QualityReduce::TempStorage& reduce, float* plane_a, float* plane_b) {
  const int tid = threadIdx.x;
  const PdqImageDesc d = a.images[img];
  PdqDeviceResult& out = a.results[img];
  const bool resized = d.width > kPreResize || d.height > kPreResize;
  const int w = resized ? kPreResize : d.width;
  const int h = resized ? kPreResize : d.height;
  if (w < kMinSide || h < kMinSide) {  // uniform across the block
    // All zero but the flag, each word written by one thread.
    constexpr int kWords = (int)(sizeof(PdqDeviceResult) / sizeof(uint32_t));
    constexpr int kFlagWord = (int)(offsetof(PdqDeviceResult, below_min_size) / sizeof(uint32_t));
    uint32_t* words = reinterpret_cast<uint32_t*>(&out);
    for (int i = tid; i < kWords; i += kThreads) words[i] = i == kFlagWord ? 1u : 0u;
    return;
  }

  const bool grey = d.layout != kLayoutGrey &&
                    (d.grey == kGreyAlways || (d.grey == kGreyDetect && a.colour[img] == 0));
  const LumaSource luma{a.pixels + d.offset, d.width, d.height, resized, d.layout, grey,
                        a.cmyk_table};

  __syncthreads();  // the previous image is done with shared memory and the planes
  if (tid < kGrid) s.sample_cols[tid] = sample_index(tid, w);
  else if (tid < 2 * kGrid) s.sample_rows[tid - kGrid] = sample_index(tid - kGrid, h);
  __syncthreads();

  float* tile = s.u.tiles[tid / kWarpSize];
  const int wx = box_window(w);
  const int wy = box_window(h);
  filter_lines(luma, h, w, wx, nullptr, plane_a, tile);                         // rows: A [w][h]
  __syncthreads();
  filter_lines(PlaneSource{plane_a, h}, w, h, wy, nullptr, plane_b, tile);      // columns: B [h][w]
  __syncthreads();
  filter_lines(PlaneSource{plane_b, w}, h, w, wx, s.sample_cols, plane_a, tile);  // rows: A [64][h]
  __syncthreads();
  filter_lines(PlaneSource{plane_a, h}, kGrid, h, wy, s.sample_rows, s.grid, tile);  // grid [64][64]
  __syncthreads();

  // Exactly 64 x 64: the reference's plain hash and quality skip the blur.
  HashScratch& hs = s.u.hash;
  const bool unblurred = w == kGrid && h == kGrid;
  if (unblurred) {
    for (int p = tid; p < kGrid * kGrid; p += kThreads) hs.raw[p] = luma(p / kGrid, p % kGrid);
    __syncthreads();
  }
  const float* plain = unblurred ? hs.raw : s.grid;

  // Quality: integer terms, so any summation order gives the CPU's total.
  int gradient = 0;
  for (int p = tid; p < kGrid * kGrid; p += kThreads) {
    const int i = p / kGrid;
    const int j = p % kGrid;
    if (i + 1 < kGrid) gradient += quality_term(plain[p], plain[p + kGrid]);
    if (j + 1 < kGrid) gradient += quality_term(plain[p], plain[p + 1]);
  }
  gradient = QualityReduce(reduce).Sum(gradient);
  if (tid == 0) {
    out.quality = quality_from_sum(gradient);
    out.below_min_size = 0;
  }

  dct16(s, plain, hs.t, hs.coeffs[0]);
  if (a.dihedral && unblurred) dct16(s, s.grid, hs.t, hs.coeffs[1]);
  hash_bits(s, a.dihedral, unblurred, out);
}

__global__ void __launch_bounds__(kThreads, 2) pdq_batch_kernel(const PdqBatchArgs a) {
  extern __shared__ __align__(16) unsigned char shared_memory[];
  Shared& s = *reinterpret_cast<Shared*>(shared_memory);
  __shared__ QualityReduce::TempStorage reduce;
  for (int i = threadIdx.x; i < kDct * kGrid; i += kThreads) {
    const float v = a.dct[i];
    s.dct[i] = v;
    s.dct_t[(i % kGrid) * kDct + i / kGrid] = v;
  }
  // (hash_image synchronises before anything reads the matrices.)
  float* plane_a = a.scratch + (size_t)blockIdx.x * kPdqScratchFloatsPerBlock;
  float* plane_b = plane_a + kPdqScratchFloatsPerBlock / 2;
  for (int img = blockIdx.x; img < a.count; img += gridDim.x)
    hash_image(a, img, s, reduce, plane_a, plane_b);
}

/// Marks images of rule kGreyDetect that have a pixel with R, G, B not all
/// equal (after the CMYK conversion, as row_is_grey_cpu compares).
__global__ void detect_colour_kernel(const PdqImageDesc* images, const uint8_t* pixels,
                                     const uint8_t* cmyk, uint32_t* colour, int blocks_per_image) {
  const int img = blockIdx.x / blocks_per_image;
  const int part = blockIdx.x % blocks_per_image;
  const PdqImageDesc d = images[img];
  if (d.grey != kGreyDetect || d.layout == kLayoutGrey) return;  // uniform across the block
  const int64_t n = (int64_t)d.width * d.height;
  const int bytes = d.layout == kLayoutRgb ? 3 : 4;
  const uint8_t* px = pixels + d.offset;
  bool seen = false;
  for (int64_t i = (int64_t)part * blockDim.x + threadIdx.x; i < n && !seen;
       i += (int64_t)blocks_per_image * blockDim.x) {
    const uint8_t* p = px + i * bytes;
    unsigned r = __ldg(p), g = __ldg(p + 1), b = __ldg(p + 2);
    if (d.layout == kLayoutCmyk) {
      const unsigned k = __ldg(p + 3);
      r = __ldg(cmyk + r * 256 + k);
      g = __ldg(cmyk + g * 256 + k);
      b = __ldg(cmyk + b * 256 + k);
    }
    seen = r != g || g != b;
  }
  if (__syncthreads_or(seen) && threadIdx.x == 0) atomicOr(colour + img, 1u);
}

constexpr int kDetectThreads = 256;
constexpr int64_t kDetectPixelsPerThread = 64;

size_t shared_bytes() { return sizeof(Shared); }

void set_shared_limit() {
  HM_CUDA_CHECK(cudaFuncSetAttribute(pdq_batch_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                     (int)shared_bytes()));
}

}  // namespace

void launch_pdq_detect_colour_async(const PdqBatchArgs& a, cudaStream_t stream) {
  if (a.count <= 0) return;
  HM_CUDA_CHECK(cudaMemsetAsync(a.colour, 0, sizeof(uint32_t) * a.count, stream));
  const int64_t per_block = kDetectThreads * kDetectPixelsPerThread;
  int64_t blocks = (a.max_source_pixels + per_block - 1) / per_block;
  blocks = blocks < 1 ? 1 : blocks > 1024 ? 1024 : blocks;
  const int64_t grid = blocks * a.count;
  if (grid > INT32_MAX) throw CudaError(cudaErrorInvalidConfiguration, "colour scan grid", __FILE__, __LINE__);
  detect_colour_kernel<<<(unsigned)grid, kDetectThreads, 0, stream>>>(
      a.images, a.pixels, a.cmyk_table, a.colour, (int)blocks);
  HM_CUDA_CHECK_LAUNCH();
}

void launch_pdq_batch_async(const PdqBatchArgs& a, cudaStream_t stream) {
  if (a.count <= 0) return;
  if (a.scratch_blocks <= 0)
    throw CudaError(cudaErrorInvalidValue, "PdqBatchArgs::scratch_blocks", __FILE__, __LINE__);
  set_shared_limit();
  const int grid = a.count < a.scratch_blocks ? a.count : a.scratch_blocks;
  pdq_batch_kernel<<<grid, kThreads, shared_bytes(), stream>>>(a);
  HM_CUDA_CHECK_LAUNCH();
}

int pdq_batch_max_resident_blocks(int device) {
  int sms = 0;
  HM_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  set_shared_limit();
  int per_sm = 0;
  HM_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, pdq_batch_kernel, kThreads,
                                                              shared_bytes()));
  return sms * (per_sm > 0 ? per_sm : 1);
}

}  // namespace hm::pdq
