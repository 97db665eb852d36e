// The row transform of the sparse IDCT against libjpeg's own accurate integer
// IDCT (jpeg_idct_islow, jidctint.c), block by block: where it accepts a
// block, its rows must be libjpeg's bytes; it must accept every block of the
// kind real encoders write; and both kernels must agree.
#include <gtest/gtest.h>

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "jpeg_sparse_idct.hpp"

extern "C" void jpeg_idct_islow(j_decompress_ptr cinfo, jpeg_component_info* compptr,
                                JCOEFPTR coef_block, JSAMPARRAY output_buf, JDIMENSION output_col);

namespace {

/// A decompressor started on a tiny JPEG: jpeg_idct_islow needs its
/// range-limit table and nothing else.
class LibjpegIdct {
 public:
  LibjpegIdct() {
    std::vector<uint8_t> grey(16 * 16, 128);
    jpeg_compress_struct c;
    jpeg_error_mgr cerr;
    c.err = jpeg_std_error(&cerr);
    jpeg_create_compress(&c);
    unsigned char* buf = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &buf, &size);
    c.image_width = c.image_height = 16;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
      JSAMPROW row = grey.data() + c.next_scanline * 16;
      jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    bytes_.assign(buf, buf + size);
    free(buf);
    d_.err = jpeg_std_error(&derr_);
    jpeg_create_decompress(&d_);
    jpeg_mem_src(&d_, bytes_.data(), (unsigned long)bytes_.size());
    jpeg_read_header(&d_, TRUE);
    jpeg_start_decompress(&d_);
  }
  ~LibjpegIdct() {
    jpeg_abort_decompress(&d_);
    jpeg_destroy_decompress(&d_);
  }
  /// All 8 rows of the block through jpeg_idct_islow.
  void transform(const int16_t* coef, const int16_t* quant, uint8_t out[8][8]) {
    jpeg_component_info comp = d_.comp_info[0];
    comp.dct_table = const_cast<int16_t*>(quant);
    JSAMPROW rows[8];
    for (int r = 0; r < 8; ++r) rows[r] = out[r];
    int16_t copy[64];
    memcpy(copy, coef, sizeof(copy));
    jpeg_idct_islow(&d_, &comp, copy, rows, 0);
  }

 private:
  std::vector<uint8_t> bytes_;
  jpeg_decompress_struct d_;
  jpeg_error_mgr derr_;
};

/// Coefficients as an encoder writes them: an 8 x 8 block of pixels (a
/// gradient, an edge, noise) through the forward DCT of the JPEG standard
/// (A.3.3), in doubles, quantized by a table of the usual magnitudes.
void realistic_block(std::mt19937& rng, int16_t coef[64], int16_t quant[64]) {
  std::uniform_int_distribution<int> q(1, 80);
  for (int i = 0; i < 64; ++i) quant[i] = (int16_t)q(rng);
  quant[0] = (int16_t)(1 + rng() % 16);
  double px[8][8];
  const double base = (double)(rng() % 256), gx = (double)((int)(rng() % 41) - 20),
               gy = (double)((int)(rng() % 41) - 20);
  const int edge = (int)(rng() % 8), step = (int)(rng() % 256) - 128, noise = (int)(rng() % 40);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) {
      double v = base + gx * (x - 3.5) + gy * (y - 3.5) + (x >= edge ? step : 0);
      if (noise) v += (int)(rng() % (2 * noise + 1)) - noise;
      px[y][x] = std::min(255.0, std::max(0.0, v)) - 128.0;
    }
  const double pi = 3.14159265358979323846;
  for (int v = 0; v < 8; ++v)
    for (int u = 0; u < 8; ++u) {
      double s = 0;
      for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x)
          s += px[y][x] * std::cos((2 * x + 1) * u * pi / 16) * std::cos((2 * y + 1) * v * pi / 16);
      const double cu = u ? 1.0 : 1.0 / std::sqrt(2.0), cv = v ? 1.0 : 1.0 / std::sqrt(2.0);
      coef[8 * v + u] = (int16_t)std::lround(0.25 * cu * cv * s / quant[8 * v + u]);
    }
}

/// What a hostile file could hold: dequantized values from small to the
/// input bound (8191) and beyond, sometimes an extreme coefficient or table
/// entry, so that every bound is crossed by some blocks and not by others.
void wild_block(std::mt19937& rng, int16_t coef[64], int16_t quant[64]) {
  const int scale = 1 << (rng() % 7);  // 1 .. 64
  for (int i = 0; i < 64; ++i) {
    quant[i] = (int16_t)(1 + rng() % 16);
    const int reach = 8191 / quant[i] / scale;
    coef[i] = (int16_t)((int)(rng() % (2 * reach + 1)) - reach);
  }
  if (rng() % 8 == 0) coef[rng() % 64] = (int16_t)rng();
  if (rng() % 16 == 0) quant[rng() % 64] = (int16_t)rng();
}

std::vector<unsigned> masks_for(std::mt19937& rng) {
  std::vector<unsigned> masks = {0xffu};
  for (int r = 0; r < 8; ++r) masks.push_back(1u << r);
  for (int k = 0; k < 4; ++k) masks.push_back((1u << (rng() % 8)) | (1u << (rng() % 8)));
  return masks;
}

struct Tally {
  long accepted = 0, refused = 0;
};

/// Checks one block against libjpeg under every mask with one kernel.
Tally check_block(LibjpegIdct& libjpeg, const int16_t* coef, const int16_t* quant,
                  const std::vector<unsigned>& masks, hm::SparseIdctKernel kernel) {
  uint8_t want[8][8];
  libjpeg.transform(coef, quant, want);
  hm::IslowTable table;
  table.set(quant);
  Tally tally;
  for (unsigned mask : masks) {
    uint8_t got[8][8];
    memset(got, 0xA5, sizeof(got));
    uint8_t* rows[8];
    for (int r = 0; r < 8; ++r) rows[r] = got[r];
    if (!hm::idct_islow_rows(coef, table, mask, rows, 0, kernel)) {
      ++tally.refused;
      continue;
    }
    ++tally.accepted;
    for (int r = 0; r < 8; ++r) {
      if (!(mask >> r & 1)) continue;
      for (int x = 0; x < 8; ++x)
        if (got[r][x] != want[r][x]) {
          ADD_FAILURE() << "mask " << mask << " pixel (" << x << ", " << r << "): "
                        << (int)got[r][x] << " libjpeg " << (int)want[r][x];
          return tally;
        }
    }
  }
  return tally;
}

class SparseIdctKernels : public ::testing::TestWithParam<hm::SparseIdctKernel> {};

TEST_P(SparseIdctKernels, RowsAreLibjpegsWhereverAccepted) {
  if (!hm::sparse_idct_kernel_supported(GetParam())) GTEST_SKIP() << "kernel not supported here";
  LibjpegIdct libjpeg;
  std::mt19937 rng(20261128);
  Tally realistic, wild;
  int16_t coef[64], quant[64];
  for (int block = 0; block < 3000; ++block) {
    realistic_block(rng, coef, quant);
    const Tally t = check_block(libjpeg, coef, quant, masks_for(rng), GetParam());
    realistic.accepted += t.accepted;
    realistic.refused += t.refused;
    wild_block(rng, coef, quant);
    const Tally w = check_block(libjpeg, coef, quant, masks_for(rng), GetParam());
    wild.accepted += w.accepted;
    wild.refused += w.refused;
    if (HasFailure()) return;
  }
  EXPECT_EQ(realistic.refused, 0) << "a block of the kind encoders write was refused";
  EXPECT_GT(wild.refused, 0);  // the bounds do refuse, and what they let through is exact
  EXPECT_GT(wild.accepted, 0);
}

TEST_P(SparseIdctKernels, EdgeBlocksAreLibjpegs) {
  if (!hm::sparse_idct_kernel_supported(GetParam())) GTEST_SKIP() << "kernel not supported here";
  LibjpegIdct libjpeg;
  std::mt19937 rng(7);
  int16_t coef[64], quant[64];
  // DC only at the clamping edges, a lone AC term at each frequency, and
  // inputs just inside the bounds (8191 dequantized), which must be exact.
  for (int dc : {-1024, -1023, -129, -128, 0, 127, 128, 1016, 1023}) {
    for (int i = 0; i < 64; ++i) quant[i] = 1;
    memset(coef, 0, sizeof(coef));
    coef[0] = (int16_t)dc;
    const Tally t = check_block(libjpeg, coef, quant, masks_for(rng), GetParam());
    EXPECT_EQ(t.refused, 0) << "dc " << dc;
  }
  for (int i = 1; i < 64; ++i)
    for (int v : {-8191, -300, 1, 300, 8191}) {
      memset(coef, 0, sizeof(coef));
      for (int k = 0; k < 64; ++k) quant[k] = 1;
      coef[i] = (int16_t)v;
      check_block(libjpeg, coef, quant, masks_for(rng), GetParam());
    }
}

TEST(SparseIdct, KernelsAgree) {
  if (!hm::sparse_idct_kernel_supported(hm::SparseIdctKernel::Avx2)) GTEST_SKIP() << "no AVX2";
  std::mt19937 rng(99);
  int16_t coef[64], quant[64];
  for (int block = 0; block < 2000; ++block) {
    if (block % 2) {
      realistic_block(rng, coef, quant);
    } else {
      wild_block(rng, coef, quant);
    }
    hm::IslowTable table;
    table.set(quant);
    for (unsigned mask : masks_for(rng)) {
      uint8_t a[8][8] = {}, b[8][8] = {};
      uint8_t* ra[8];
      uint8_t* rb[8];
      for (int r = 0; r < 8; ++r) {
        ra[r] = a[r];
        rb[r] = b[r];
      }
      const bool sa = hm::idct_islow_rows(coef, table, mask, ra, 0, hm::SparseIdctKernel::Scalar);
      const bool sb = hm::idct_islow_rows(coef, table, mask, rb, 0, hm::SparseIdctKernel::Avx2);
      ASSERT_EQ(sa, sb) << "block " << block << " mask " << mask;
      if (sa) {
        ASSERT_EQ(memcmp(a, b, sizeof(a)), 0) << "block " << block << " mask " << mask;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, SparseIdctKernels,
                         ::testing::Values(hm::SparseIdctKernel::Scalar, hm::SparseIdctKernel::Avx2),
                         [](const ::testing::TestParamInfo<hm::SparseIdctKernel>& info) {
                           return std::string(info.param == hm::SparseIdctKernel::Avx2 ? "avx2"
                                                                                       : "scalar");
                         });

}  // namespace
