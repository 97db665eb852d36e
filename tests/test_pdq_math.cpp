// The per-element PDQ formulas against values worked out by hand from the
// spec (docs: tests/data/pdq-golden/README.md and the PDQ spec sections cited).
#include <gtest/gtest.h>
#include <string.h>

#include <vector>

#include "hash_record.hpp"
#include "pdq_cpu.hpp"
#include "pdq_math.hpp"

namespace {

using namespace hm::pdq;

uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

TEST(PdqMath, LumaWeightsHaveTheReferenceBitPatterns) {
  EXPECT_EQ(bits_of(kLumaR), 0x3e991687u);
  EXPECT_EQ(bits_of(kLumaG), 0x3f1645a2u);
  EXPECT_EQ(bits_of(kLumaB), 0x3de978d5u);
}

TEST(PdqMath, LumaOfPrimaries) {
  EXPECT_EQ(luma_rgb(255, 0, 0), 0.299f * 255.0f);
  EXPECT_EQ(luma_rgb(0, 0, 0), 0.0f);
  // White is 255 only up to rounding: (76.245 + 149.685) + 29.07 in float.
  EXPECT_NEAR(luma_rgb(255, 255, 255), 255.0f, 1e-4f);
}

TEST(PdqMath, BoxWindowIsCeilOfSideOver128) {
  EXPECT_EQ(box_window(1), 1);
  EXPECT_EQ(box_window(128), 1);
  EXPECT_EQ(box_window(129), 2);
  EXPECT_EQ(box_window(512), 4);
  EXPECT_EQ(box_window(513), 5);
}

TEST(PdqMath, EvenWindowsLeanRight) {
  // w = 2r covers [i - r + 1, i + r]; w = 2r + 1 covers [i - r, i + r].
  EXPECT_EQ(box_span(1).lead, 0);
  EXPECT_EQ(box_span(1).lag, 0);
  EXPECT_EQ(box_span(3).lead, 1);
  EXPECT_EQ(box_span(3).lag, 1);
  EXPECT_EQ(box_span(4).lead, 2);
  EXPECT_EQ(box_span(4).lag, 1);
}

TEST(PdqMath, BoxFilterMeansShrinkAtTheEdges) {
  const std::vector<float> in = {1, 2, 3, 4, 5, 6};
  std::vector<float> out(6);
  box_filter_line(in.data(), 1, out.data(), 1, 6, 3);  // [i-1, i+1]
  EXPECT_EQ(out, (std::vector<float>{1.5f, 2, 3, 4, 5, 5.5f}));
  box_filter_line(in.data(), 1, out.data(), 1, 6, 4);  // [i-1, i+2]
  EXPECT_EQ(out, (std::vector<float>{2, 2.5f, 3.5f, 4.5f, 5, 5.5f}));
}

TEST(PdqMath, BoxFilterHonoursStrides) {
  // A column of a 2-wide row-major buffer: elements 0, 2, 4.
  const std::vector<float> in = {1, 100, 3, 100, 5, 100};
  std::vector<float> out(6, -1);
  box_filter_line(in.data(), 2, out.data(), 2, 3, 3);
  EXPECT_EQ(out, (std::vector<float>{2, -1, 3, -1, 4, -1}));
}

TEST(PdqMath, PreResizeIsNearestNeighbourFloor) {
  EXPECT_EQ(preresize_source_index(0, 1024), 0);
  EXPECT_EQ(preresize_source_index(511, 1024), 1022);
  EXPECT_EQ(preresize_source_index(511, 512), 511);
  // Upsampling a short side repeats rows: 300 rows -> 512.
  EXPECT_EQ(preresize_source_index(1, 300), 0);
  EXPECT_EQ(preresize_source_index(2, 300), 1);
  EXPECT_EQ(preresize_source_index(511, 300), 299);
  EXPECT_EQ(preresize_source_index(511, 6000), 5988);  // 511 * 6000 / 512 = 5988.28
}

TEST(PdqMath, SampleIndexTakesCellCentres) {
  for (int i = 0; i < 64; ++i) EXPECT_EQ(sample_index(i, 64), i);
  EXPECT_EQ(sample_index(0, 512), 4);
  EXPECT_EQ(sample_index(63, 512), 508);
  EXPECT_EQ(sample_index(0, 5), 0);   // 0.5 * 5 / 64
  EXPECT_EQ(sample_index(63, 5), 4);  // 63.5 * 5 / 64 = 4.96
}

TEST(PdqMath, QualityTermTruncatesTowardZero) {
  EXPECT_EQ(quality_term(255, 0), 100);
  EXPECT_EQ(quality_term(0, 255), 100);
  EXPECT_EQ(quality_term(3, 0), 1);   // 300 / 255 = 1.18
  EXPECT_EQ(quality_term(2, 0), 0);   // 200 / 255 = 0.78
  EXPECT_EQ(quality_term(0, 3), 1);
  EXPECT_EQ(quality_from_sum(89), 0);
  EXPECT_EQ(quality_from_sum(9000), 100);
  EXPECT_EQ(quality_from_sum(900000), 100);
  EXPECT_EQ(quality_from_sum(4500), 50);
}

TEST(PdqMath, DctMatrixFollowsTheFormula) {
  const auto& d = dct_matrix();
  // D[0][0] = sqrt(2/64) cos(pi/128), D[15][63] = sqrt(2/64) cos(pi * 16 * 127 / 128) = cos(127 pi / 8).
  EXPECT_FLOAT_EQ(d[0], 0.17677669f * 0.99969882f);
  EXPECT_FLOAT_EQ(d[15 * 64 + 63], 0.17677669f * 0.92387953f);  // cos(127 pi / 8)
  // Rows are orthogonal cosines (frequencies 1..16): dot products vanish.
  double dot = 0;
  for (int x = 0; x < 64; ++x) dot += (double)d[1 * 64 + x] * d[2 * 64 + x];
  EXPECT_NEAR(dot, 0.0, 1e-6);
}

TEST(PdqMath, DihedralMapsAreTheSpecTable) {
  // rot90: B'[v][u] = B[u][v] when v odd, else negated.
  DihedralSource s = dihedral_source(1, 3, 2);  // r = v = 3 (odd), c = u = 2
  EXPECT_EQ(s.u, 2);
  EXPECT_EQ(s.v, 3);
  EXPECT_FALSE(s.negate);
  EXPECT_TRUE(dihedral_source(1, 2, 3).negate);
  // rot180 negates where u + v is odd.
  EXPECT_TRUE(dihedral_source(2, 0, 1).negate);
  EXPECT_FALSE(dihedral_source(2, 1, 1).negate);
  // flipplus1 is the transpose, never negated.
  s = dihedral_source(6, 4, 9);
  EXPECT_EQ(s.u, 9);
  EXPECT_EQ(s.v, 4);
  EXPECT_FALSE(s.negate);
  // Applying rot90 four times is the identity, with the signs.
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 16; ++c) {
      int u = r, v = c;
      bool neg = false;
      for (int k = 0; k < 4; ++k) {
        const DihedralSource t = dihedral_source(1, u, v);
        u = t.u;
        v = t.v;
        neg ^= t.negate;
      }
      EXPECT_EQ(u, r);
      EXPECT_EQ(v, c);
      EXPECT_FALSE(neg);
    }
}

TEST(PdqMath, HexLayoutPutsCoefficientZeroLast) {
  // Coefficient (0,0) alone above the median: the last hex digit is 1.
  // (15,15) is the high bit of the first digit: 8.
  float dct[256];
  for (int k = 0; k < 256; ++k) dct[k] = -1.0f;
  dct[0] = 1.0f;
  EXPECT_EQ(hm::pdq_hex(pdq_bits(dct, 0)), std::string(63, '0') + "1");
  dct[0] = -1.0f;
  dct[255] = 1.0f;
  EXPECT_EQ(hm::pdq_hex(pdq_bits(dct, 0)), "8" + std::string(63, '0'));
  // Coefficient (0, 4): bit 4, the low bit of the second-to-last digit.
  dct[255] = -1.0f;
  dct[4] = 1.0f;
  EXPECT_EQ(hm::pdq_hex(pdq_bits(dct, 0)), std::string(62, '0') + "10");
}

TEST(PdqMath, BitsAreStrictlyAboveTheLowerMedian) {
  float dct[256];
  for (int k = 0; k < 256; ++k) dct[k] = (float)k;  // median (128th smallest) is 127
  const Hash256 h = pdq_bits(dct, 0);
  int ones = 0;
  for (uint8_t b : h) ones += __builtin_popcount(b);
  EXPECT_EQ(ones, 128);
  // Bits 128..255 set: the first 32 hex digits are f, the rest 0.
  EXPECT_EQ(hm::pdq_hex(h), std::string(32, 'f') + std::string(32, '0'));
}

}  // namespace
