// The fast CPU PDQ against the literal scalar rendering of the spec, bit for
// bit, on seeded random images of awkward sizes, and the DCT against double.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "hash_record.hpp"
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

}  // namespace
