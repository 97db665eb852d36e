#include "pdq_cpu.hpp"

#include "box_blur_cpu.hpp"
#include "luma_cpu.hpp"

#include <math.h>
#include <string.h>

#include <algorithm>

namespace hm::pdq {

namespace {

void compute_luma(const PdqImage& image, float* luma) {
  const int channels = image.channels;
  const size_t stride = (size_t)image.width * channels;
  for (int y = 0; y < image.height; ++y)
    luma_row_cpu(image.pixels + y * stride,
                 channels == 1 ? PixelLayout::Grey : channels == 4 ? PixelLayout::Rgbx : PixelLayout::Rgb,
                 nullptr, image.width,
                 luma + (size_t)y * image.width);
  if (image.grey && channels != 1) luma_rgb_to_grey_cpu(luma, (int64_t)image.width * image.height);
}

}  // namespace

bool pdq_below_min_size(int w, int h, PdqResult& result) {
  result = PdqResult{};
  if (w >= kMinSide && h >= kMinSide) return false;
  result.below_min_size = true;
  return true;
}

void pdq_hash_grids(const float* grid, const float* dihedral_grid, bool dihedral,
                    PdqResult& result) {
  float dct[kDct * kDct];
  pdq_dct16(grid, dct);
  result.quality = pdq_quality(grid);
  result.hash = pdq_bits(dct, 0);
  if (!dihedral) return;
  if (dihedral_grid != grid) pdq_dct16(dihedral_grid, dct);
  for (int t = 0; t < kDihedralCount; ++t) result.dihedral[t] = pdq_bits(dct, t);
}

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

void pdq_hash_luma_cpu(const float* luma, int w, int h, bool dihedral, PdqResult& result,
                       PdqScratch& scratch) {
  if (pdq_below_min_size(w, h, result)) return;
  float grid[kGrid * kGrid] = {};
  blur_and_sample_cpu(luma, h, w, grid, scratch.blur);
  // At exactly 64 x 64 the reference's plain hash skips the blur.
  const bool unblurred = w == kGrid && h == kGrid;
  pdq_hash_grids(unblurred ? luma : grid, grid, dihedral, result);
}

void pdq_hash_cpu(const PdqImage& image, bool dihedral, PdqResult& result, PdqScratch& scratch) {
  if (pdq_below_min_size(image.width, image.height, result)) return;
  scratch.luma.resize((size_t)image.width * image.height);
  compute_luma(image, scratch.luma.data());
  pdq_hash_luma_cpu(scratch.luma.data(), image.width, image.height, dihedral, result, scratch);
}

void pdq_hash_reference(const PdqImage& image, bool dihedral, PdqResult& result) {
  if (pdq_below_min_size(image.width, image.height, result)) return;
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
  float grid[kGrid * kGrid] = {};
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
