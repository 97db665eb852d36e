#include "pdq_cpu.hpp"

#include <math.h>
#include <string.h>

#include <algorithm>

namespace hm::pdq {

namespace {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// One build runs everywhere; AVX2 machines get 8-lane code chosen at load time.
#define HM_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define HM_VECTOR_CLONES
#endif

constexpr int kLanes = 8;
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float))));

// ---- shared steps -------------------------------------------------------

void compute_luma(const PdqImage& image, float* luma) {
  const size_t n = (size_t)image.width * image.height;
  const uint8_t* p = image.pixels;
  if (image.channels == 1) {
    for (size_t i = 0; i < n; ++i) luma[i] = (float)p[i];
  } else if (image.grey) {
    for (size_t i = 0; i < n; ++i) luma[i] = (float)p[3 * i];
  } else {
    for (size_t i = 0; i < n; ++i)
      luma[i] = luma_rgb((float)p[3 * i], (float)p[3 * i + 1], (float)p[3 * i + 2]);
  }
}

void sample_indices(int n, int* out) {
  for (int i = 0; i < kGrid; ++i) out[i] = sample_index(i, n);
}

// ---- vectorised box filters --------------------------------------------
//
// Each output keeps its own sequential running sum, so computing 8 rows (or
// 8 columns) side by side in vector lanes performs, lane by lane, exactly the
// reference's operations: the results are bit-identical.

/// Filters every row of in [h, w] with `window` and writes out[y][j] for each
/// sampled column j: out is [h, ncols] with ncols = w (all columns, cols ==
/// nullptr) or 64 (cols = sorted sample indices). `lanes` holds w * 8 floats.
HM_VECTOR_CLONES
void box_rows(const float* in, int h, int w, int window, const int* cols, float* out,
              float* lanes) {
  const BoxSpan s = box_span(window);
  const int ncols = cols ? kGrid : w;
  int y = 0;
  for (; y + kLanes <= h; y += kLanes) {
    Lanes* t = reinterpret_cast<Lanes*>(lanes);
    for (int x = 0; x < w; ++x)
      for (int r = 0; r < kLanes; ++r) t[x][r] = in[(size_t)(y + r) * w + x];
    Lanes sum = {};
    int count = 0;
    for (int k = 0; k < s.lead && k < w; ++k) {
      sum = sum + t[k];
      ++count;
    }
    int j = 0;
    for (int i = 0; i < w; ++i) {
      if (i + s.lead < w) {
        sum = sum + t[i + s.lead];
        ++count;
      }
      if (i - s.lag - 1 >= 0) {
        sum = sum - t[i - s.lag - 1];
        --count;
      }
      if (cols == nullptr) {
        const Lanes o = sum / (float)count;
        for (int r = 0; r < kLanes; ++r) out[(size_t)(y + r) * ncols + i] = o[r];
      } else {
        for (; j < kGrid && cols[j] == i; ++j) {
          const Lanes o = sum / (float)count;
          for (int r = 0; r < kLanes; ++r) out[(size_t)(y + r) * ncols + j] = o[r];
        }
      }
    }
  }
  // Leftover rows: the scalar line filter (same arithmetic, one lane).
  for (; y < h; ++y) {
    float* line = lanes;
    box_filter_line(in + (size_t)y * w, 1, line, 1, w, window);
    if (cols == nullptr) {
      memcpy(out + (size_t)y * ncols, line, sizeof(float) * w);
    } else {
      for (int j = 0; j < kGrid; ++j) out[(size_t)y * ncols + j] = line[cols[j]];
    }
  }
}

/// Filters every column of in [h, w] with `window`; writes all h rows to out
/// [h, w] (rows == nullptr) or the 64 sampled rows to out [64, w]. `sum`
/// holds w floats.
HM_VECTOR_CLONES
void box_cols(const float* in, int h, int w, int window, const int* rows, float* out,
              float* sum) {
  const BoxSpan s = box_span(window);
  std::fill(sum, sum + w, 0.0f);
  int count = 0;
  for (int k = 0; k < s.lead && k < h; ++k) {
    const float* a = in + (size_t)k * w;
    for (int x = 0; x < w; ++x) sum[x] = sum[x] + a[x];
    ++count;
  }
  int j = 0;
  for (int i = 0; i < h; ++i) {
    const bool add = i + s.lead < h;
    const bool sub = i - s.lag - 1 >= 0;
    const float* a = in + (size_t)(i + s.lead) * w;
    const float* b = in + (size_t)(i - s.lag - 1) * w;
    if (add && sub) {
      for (int x = 0; x < w; ++x) sum[x] = (sum[x] + a[x]) - b[x];
    } else if (add) {
      for (int x = 0; x < w; ++x) sum[x] = sum[x] + a[x];
    } else if (sub) {
      for (int x = 0; x < w; ++x) sum[x] = sum[x] - b[x];
    }
    count += (int)add - (int)sub;
    const float c = (float)count;
    if (rows == nullptr) {
      float* o = out + (size_t)i * w;
      for (int x = 0; x < w; ++x) o[x] = sum[x] / c;
    } else {
      for (; j < kGrid && rows[j] == i; ++j) {
        float* o = out + (size_t)j * w;
        for (int x = 0; x < w; ++x) o[x] = sum[x] / c;
      }
    }
  }
}

/// Two blur passes of luma [h, w] sampled at the 64 x 64 grid. The second
/// pass computes only what the grid reads: all running sums, but divisions
/// and stores at sampled columns, then only the 64 sampled columns down.
void blur_and_sample(float* luma, int h, int w, float* grid, PdqScratch& scratch) {
  const int wx = box_window(w);
  const int wy = box_window(h);
  int cols[kGrid];
  int rows[kGrid];
  sample_indices(w, cols);
  sample_indices(h, rows);
  scratch.work.resize((size_t)h * std::max(w, kGrid));  // [h, w], then [h, 64]
  // Vector lanes need 32-byte alignment, which std::vector does not promise.
  scratch.lanes.resize((size_t)std::max(w, kGrid) * kLanes + w + kLanes);
  float* work = scratch.work.data();
  float* lanes = scratch.lanes.data();
  while (reinterpret_cast<uintptr_t>(lanes) % sizeof(Lanes) != 0) ++lanes;
  box_rows(luma, h, w, wx, nullptr, work, lanes);
  box_cols(work, h, w, wy, nullptr, luma, lanes);
  box_rows(luma, h, w, wx, cols, work, lanes);  // work is now [h, 64]
  box_cols(work, h, kGrid, wy, rows, grid, lanes);
}

void finish(const float* grid, bool dihedral, bool dihedral_only, PdqResult& result) {
  float dct[kDct * kDct];
  pdq_dct16(grid, dct);
  if (!dihedral_only) {
    result.quality = pdq_quality(grid);
    result.hash = pdq_bits(dct, 0);
  }
  if (dihedral)
    for (int t = 0; t < kDihedralCount; ++t) result.dihedral[t] = pdq_bits(dct, t);
}

bool below_min_size(const PdqImage& image, bool dihedral, PdqResult& result) {
  result = PdqResult{};
  if (image.width >= kMinSide && image.height >= kMinSide) return false;
  result.below_min_size = true;
  (void)dihedral;  // all eight hashes stay zero, as the reference's are
  return true;
}

}  // namespace

const std::array<float, kDct * kGrid>& dct_matrix() {
  static const std::array<float, kDct * kGrid> matrix = [] {
    std::array<float, kDct * kGrid> d{};
    const double pi = 3.14159265358979323846;
    const float scale = (float)sqrt(2.0 / 64.0);
    for (int u = 0; u < kDct; ++u)
      for (int x = 0; x < kGrid; ++x)
        d[u * kGrid + x] = (float)(scale * cos((pi / 2 / 64) * (u + 1) * (2 * x + 1)));
    return d;
  }();
  return matrix;
}

int pdq_quality(const float* a) {
  int g = 0;
  for (int i = 0; i < kGrid - 1; ++i)
    for (int j = 0; j < kGrid; ++j) g += quality_term(a[i * kGrid + j], a[(i + 1) * kGrid + j]);
  for (int i = 0; i < kGrid; ++i)
    for (int j = 0; j < kGrid - 1; ++j) g += quality_term(a[i * kGrid + j], a[i * kGrid + j + 1]);
  return quality_from_sum(g);
}

void pdq_dct16(const float* a, float* b) {
  const float* d = dct_matrix().data();
  // T = D A: for each u, accumulate k = 0..63 in order, across all x at once.
  float t[kDct * kGrid];
  for (int u = 0; u < kDct; ++u) {
    float* tu = t + u * kGrid;
    std::fill(tu, tu + kGrid, 0.0f);
    for (int k = 0; k < kGrid; ++k) {
      const float duk = d[u * kGrid + k];
      const float* ak = a + k * kGrid;
      for (int x = 0; x < kGrid; ++x) tu[x] = tu[x] + duk * ak[x];
    }
  }
  // B = T D^T, again k in order, across all v at once (D^T is [64, 16]).
  static const std::array<float, kGrid * kDct> dt = [] {
    std::array<float, kGrid * kDct> m{};
    for (int v = 0; v < kDct; ++v)
      for (int k = 0; k < kGrid; ++k) m[k * kDct + v] = dct_matrix()[v * kGrid + k];
    return m;
  }();
  for (int u = 0; u < kDct; ++u) {
    float* bu = b + u * kDct;
    std::fill(bu, bu + kDct, 0.0f);
    for (int k = 0; k < kGrid; ++k) {
      const float tuk = t[u * kGrid + k];
      const float* dk = dt.data() + k * kDct;
      for (int v = 0; v < kDct; ++v) bu[v] = bu[v] + tuk * dk[v];
    }
  }
}

Hash256 pdq_bits(const float* dct, int transform) {
  float values[kDct * kDct];
  for (int r = 0; r < kDct; ++r)
    for (int c = 0; c < kDct; ++c) {
      const DihedralSource s = dihedral_source(transform, r, c);
      const float v = dct[s.u * kDct + s.v];
      values[r * kDct + c] = s.negate ? -v : v;
    }
  float sorted[kDct * kDct];
  memcpy(sorted, values, sizeof(values));
  std::nth_element(sorted, sorted + 127, sorted + kDct * kDct);
  const float median = sorted[127];
  Hash256 hash{};
  for (int k = 0; k < kBits; ++k)
    if (values[k] > median) hash[hash_byte_of_bit(k)] |= (uint8_t)(1u << hash_shift_of_bit(k));
  return hash;
}

void pdq_hash_cpu(const PdqImage& image, bool dihedral, PdqResult& result, PdqScratch& scratch) {
  if (below_min_size(image, dihedral, result)) return;
  const int w = image.width;
  const int h = image.height;
  scratch.luma.resize((size_t)w * h);
  float* luma = scratch.luma.data();
  compute_luma(image, luma);
  float grid[kGrid * kGrid];
  if (w == kGrid && h == kGrid) {
    // The reference's plain entry point skips the blur at exactly 64 x 64;
    // its dihedral entry point blurs anyway.
    finish(luma, false, false, result);
    if (!dihedral) return;
    blur_and_sample(luma, h, w, grid, scratch);
    finish(grid, true, true, result);
    return;
  }
  blur_and_sample(luma, h, w, grid, scratch);
  finish(grid, dihedral, false, result);
}

void pdq_hash_reference(const PdqImage& image, bool dihedral, PdqResult& result) {
  if (below_min_size(image, dihedral, result)) return;
  const int w = image.width;
  const int h = image.height;
  std::vector<float> luma((size_t)w * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const uint8_t* p = image.pixels + ((size_t)y * w + x) * image.channels;
      luma[(size_t)y * w + x] = (image.channels == 1 || image.grey)
                                    ? (float)p[0]
                                    : luma_rgb((float)p[0], (float)p[1], (float)p[2]);
    }
  auto blur_sample = [&](std::vector<float> buf1, float* grid) {
    std::vector<float> buf2(buf1.size());
    const int wx = box_window(w);
    const int wy = box_window(h);
    for (int pass = 0; pass < 2; ++pass) {
      for (int y = 0; y < h; ++y)
        box_filter_line(&buf1[(size_t)y * w], 1, &buf2[(size_t)y * w], 1, w, wx);
      for (int x = 0; x < w; ++x) box_filter_line(&buf2[x], w, &buf1[x], w, h, wy);
    }
    for (int i = 0; i < kGrid; ++i)
      for (int j = 0; j < kGrid; ++j)
        grid[i * kGrid + j] = buf1[(size_t)sample_index(i, h) * w + sample_index(j, w)];
  };
  float grid[kGrid * kGrid];
  const bool skip_blur = (w == kGrid && h == kGrid);
  if (skip_blur) {
    std::copy(luma.begin(), luma.end(), grid);
  } else {
    blur_sample(luma, grid);
  }
  float dct[kDct * kDct];
  pdq_dct16(grid, dct);
  result.quality = pdq_quality(grid);
  result.hash = pdq_bits(dct, 0);
  if (!dihedral) return;
  if (skip_blur) {
    blur_sample(luma, grid);
    pdq_dct16(grid, dct);
  }
  for (int t = 0; t < kDihedralCount; ++t) result.dihedral[t] = pdq_bits(dct, t);
}

}  // namespace hm::pdq
