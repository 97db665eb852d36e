// The fast CPU PDQ against the literal scalar rendering of the spec, bit for
// bit, on seeded random images of awkward sizes, and the DCT against double.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "hash_record.hpp"
#include "luma_cpu.hpp"
#include "pdq_cpu.hpp"

namespace {

using namespace hm::pdq;

struct Case {
  int width, height, channels;
  bool grey;
};

std::vector<uint8_t> random_image(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> px((size_t)c.width * c.height * c.channels);
  // Smooth gradients plus noise: like photos, with distinct DCT coefficients.
  std::uniform_int_distribution<int> noise(-20, 20);
  for (int y = 0; y < c.height; ++y)
    for (int x = 0; x < c.width; ++x)
      for (int k = 0; k < c.channels; ++k) {
        const int base = (x * 255 / std::max(1, c.width) + y * 97 / std::max(1, c.height) + 60 * k) % 256;
        const int v = std::min(255, std::max(0, base + noise(rng)));
        px[((size_t)y * c.width + x) * c.channels + k] = (uint8_t)v;
      }
  if (c.grey)
    for (size_t i = 0; i < px.size(); i += 3) px[i + 1] = px[i + 2] = px[i];
  return px;
}

TEST(PdqCpu, FastPathIsBitIdenticalToReference) {
  const std::vector<Case> cases = {
      {1, 1, 3, false},     {4, 4, 1, false},     {5, 5, 3, false},   {5, 9, 1, false},
      {7, 3, 3, false},     {31, 33, 3, false},   {63, 64, 1, false}, {64, 64, 3, false},
      {64, 64, 1, false},   {65, 65, 3, false},   {127, 128, 3, false}, {129, 130, 1, false},
      {200, 37, 3, false},  {37, 200, 3, false},  {255, 256, 3, true}, {300, 512, 3, false},
      {511, 509, 1, false}, {512, 512, 3, false}, {512, 8, 3, false}, {8, 512, 1, false},
  };
  PdqScratch scratch;
  for (const Case& c : cases) {
    for (uint32_t seed = 1; seed <= 3; ++seed) {
      SCOPED_TRACE(testing::Message() << c.width << "x" << c.height << "x" << c.channels
                                      << (c.grey ? " grey" : "") << " seed " << seed);
      const auto px = random_image(c, seed);
      PdqImage image{px.data(), c.width, c.height, c.channels, c.grey};
      PdqResult fast, slow;
      pdq_hash_cpu(image, true, fast, scratch);
      pdq_hash_reference(image, true, slow);
      EXPECT_EQ(hm::pdq_hex(fast.hash), hm::pdq_hex(slow.hash));
      EXPECT_EQ(fast.quality, slow.quality);
      EXPECT_EQ(fast.below_min_size, slow.below_min_size);
      for (int t = 0; t < kDihedralCount; ++t)
        EXPECT_EQ(hm::pdq_hex(fast.dihedral[t]), hm::pdq_hex(slow.dihedral[t])) << t;
    }
  }
}

TEST(PdqCpu, TinyImagesHashToZero) {
  const std::vector<uint8_t> px(4 * 7 * 3, 200);
  PdqScratch scratch;
  PdqResult r;
  pdq_hash_cpu(PdqImage{px.data(), 4, 7, 3, false}, true, r, scratch);
  EXPECT_TRUE(r.below_min_size);
  EXPECT_EQ(r.quality, 0);
  EXPECT_EQ(hm::pdq_hex(r.hash), std::string(64, '0'));
  for (const auto& h : r.dihedral) EXPECT_EQ(hm::pdq_hex(h), std::string(64, '0'));
}

TEST(PdqCpu, PhotoLikeImagesSetHalfTheBits) {
  const Case c{300, 200, 3, false};
  const auto px = random_image(c, 7);
  PdqScratch scratch;
  PdqResult r;
  pdq_hash_cpu(PdqImage{px.data(), c.width, c.height, 3, false}, false, r, scratch);
  int ones = 0;
  for (uint8_t b : r.hash) ones += __builtin_popcount(b);
  EXPECT_EQ(ones, 128);
  EXPECT_GT(r.quality, 0);
}

TEST(PdqCpu, DctAgreesWithDoublePrecision) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> value(0.0f, 255.0f);
  std::vector<float> grid(64 * 64);
  for (float& v : grid) v = value(rng);
  float dct[256];
  pdq_dct16(grid.data(), dct);
  const double pi = 3.14159265358979323846;
  for (int u = 0; u < 16; ++u)
    for (int v = 0; v < 16; ++v) {
      double sum = 0;
      for (int i = 0; i < 64; ++i)
        for (int j = 0; j < 64; ++j)
          sum += std::sqrt(2.0 / 64) * std::cos(pi / 128 * (u + 1) * (2 * i + 1)) *
                 std::sqrt(2.0 / 64) * std::cos(pi / 128 * (v + 1) * (2 * j + 1)) * grid[i * 64 + j];
      EXPECT_NEAR(dct[u * 16 + v], sum, 1e-2) << u << "," << v;
    }
}

TEST(PdqCpu, QualityOfAFlatImageIsZeroAndOfStripesIsHundred) {
  std::vector<float> flat(64 * 64, 77.0f);
  EXPECT_EQ(pdq_quality(flat.data()), 0);
  std::vector<float> stripes(64 * 64);
  for (int i = 0; i < 64; ++i)
    for (int j = 0; j < 64; ++j) stripes[i * 64 + j] = (j % 2) ? 255.0f : 0.0f;
  // 64 rows x 63 horizontal pairs x 100 = 403200; / 90 = 4480 -> capped at 100.
  EXPECT_EQ(pdq_quality(stripes.data()), 100);
}

// Luma of the pre-resize's columns for every layout and many row widths
// (shrinking a little, by 2x, by more; stretching) against the formula
// applied pixel by pixel; rows are exactly sized so overreads trip ASan.
TEST(PdqCpu, LumaRowsAtSelectedColumnsMatchTheFormula) {
  std::mt19937 rng(5);
  for (PixelLayout layout : {PixelLayout::Grey, PixelLayout::Rgb, PixelLayout::Rgbx, PixelLayout::Cmyk}) {
    for (int w : {300, 511, 512, 513, 600, 777, 1000, 1023, 1024, 1025, 1500, 4000}) {
      SCOPED_TRACE(testing::Message() << "layout " << (int)layout << " width " << w);
      const int bpp = bytes_per_pixel(layout);
      std::vector<uint8_t> row((size_t)w * bpp);
      for (auto& b : row) b = (uint8_t)rng();
      std::vector<int> cols(kPreResize);
      for (int x = 0; x < kPreResize; ++x) cols[x] = preresize_source_index(x, w);
      for (const int* selection : {(const int*)nullptr, (const int*)cols.data()}) {
        const int n = selection ? kPreResize : w;
        std::vector<float> out(n);
        luma_row_cpu(row.data(), layout, selection, n, out.data());
        for (int x = 0; x < n; ++x) {
          const uint8_t* p = row.data() + (size_t)bpp * (selection ? selection[x] : x);
          float want;
          if (layout == PixelLayout::Grey) {
            want = (float)p[0];
          } else if (layout == PixelLayout::Cmyk) {
            want = luma_rgb(cmyk_to_rgb(p[0], p[3]), cmyk_to_rgb(p[1], p[3]), cmyk_to_rgb(p[2], p[3]));
          } else {
            want = luma_rgb(p[0], p[1], p[2]);
          }
          ASSERT_EQ(out[x], want) << "x " << x;
        }
      }
    }
  }
}

}  // namespace
