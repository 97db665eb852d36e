// --decode fast: the scale rule, the decoded image it gives, and how far its
// hashes drift from exact mode on the golden set (non-JPEGs must not move).
#include <gtest/gtest.h>
#include <stdio.h>

#include <jpeglib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "decode.hpp"
#include "decode_test_support.hpp"
#include "file_hasher.hpp"
#include "hash_record.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kGoldenImages = std::string(HM_TEST_DATA) + "/pdq-golden/images";

std::vector<std::string> golden_files() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(kGoldenImages))
    if (e.is_regular_file()) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

int popcount_distance(const hm::pdq::Hash256& a, const hm::pdq::Hash256& b) {
  int d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += __builtin_popcount((unsigned)(a[i] ^ b[i]));
  return d;
}

hm::HashOptions pdq_only(hm::DecodeMode mode) {
  hm::HashOptions options;
  options.md5 = options.sha1 = options.sha256 = false;
  options.decode.mode = mode;
  return options;
}

/// libjpeg's own output size for a header decoded at m/8.
void libjpeg_scaled_size(const std::vector<uint8_t>& jpeg, int m, int& width, int& height) {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, jpeg.data(), (unsigned long)jpeg.size());
  jpeg_read_header(&cinfo, TRUE);
  cinfo.scale_num = (unsigned)m;
  cinfo.scale_denom = 8;
  jpeg_calc_output_dimensions(&cinfo);
  width = (int)cinfo.output_width;
  height = (int)cinfo.output_height;
  jpeg_destroy_decompress(&cinfo);
}

bool keeps_working_size(int side, int m) {
  const int64_t scaled = ((int64_t)side * m + 7) / 8;
  return scaled >= std::min(side, 512);
}

TEST(DecodeFast, DefaultIsExact) {
  EXPECT_EQ(hm::DecodeOptions{}.mode, hm::DecodeMode::Exact);
  EXPECT_EQ(hm::HashOptions{}.decode.mode, hm::DecodeMode::Exact);
  EXPECT_STREQ(hm::decode_mode_name(hm::DecodeMode::Exact), "exact");
  EXPECT_STREQ(hm::decode_mode_name(hm::DecodeMode::Fast), "fast");
}

TEST(DecodeFast, ScaleIsSmallestPowerOfTwoKeepingWorkingSize) {
  // Worked cases: 4000 x 3000 at 1/4 is 1000 x 750 (1/8 would be 500 x 375);
  // 1024 x 640 at 1/2 would leave 320 rows, so it stays whole.
  EXPECT_EQ(hm::jpeg_fast_scale(4000, 3000), 2);
  EXPECT_EQ(hm::jpeg_fast_scale(6000, 4000), 2);
  EXPECT_EQ(hm::jpeg_fast_scale(8192, 4096), 1);
  EXPECT_EQ(hm::jpeg_fast_scale(1024, 1024), 4);
  EXPECT_EQ(hm::jpeg_fast_scale(1024, 640), 8);
  EXPECT_EQ(hm::jpeg_fast_scale(512, 512), 8);
  EXPECT_EQ(hm::jpeg_fast_scale(4000, 300), 8);  // the stretched short side keeps its rows
  EXPECT_EQ(hm::jpeg_fast_scale(300, 200), 8);
  EXPECT_EQ(hm::jpeg_fast_scale(1, 1), 1);  // one pixel at any scale
  const uint32_t seed = 20240611;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> side(1, 20000);
  for (int i = 0; i < 5000; ++i) {
    const int w = side(rng), h = side(rng);
    const int m = hm::jpeg_fast_scale(w, h);
    SCOPED_TRACE("seed " + std::to_string(seed) + ": " + std::to_string(w) + " x " +
                 std::to_string(h) + " -> " + std::to_string(m) + "/8");
    ASSERT_TRUE(m == 1 || m == 2 || m == 4 || m == 8);
    if (m < 8) {
      ASSERT_TRUE(keeps_working_size(w, m) && keeps_working_size(h, m));
    }
    for (int smaller = 1; smaller < m; smaller *= 2)
      ASSERT_FALSE(keeps_working_size(w, smaller) && keeps_working_size(h, smaller));
  }
}

TEST(DecodeFast, DecodesLumaAtLibjpegScaledSize) {
  const std::vector<uint8_t> jpeg =
      hm::test::read_file(kGoldenImages + "/lomiri_painting_colors__large_native.jpg");
  ASSERT_FALSE(jpeg.empty());
  hm::DecodeOptions options;
  options.mode = hm::DecodeMode::Fast;
  hm::FullImageSink sink;
  const hm::DecodeOutcome out = hm::decode_image(jpeg.data(), jpeg.size(), options, sink);
  ASSERT_TRUE(out.ok()) << out.error;
  EXPECT_EQ(out.width, 6000);  // the outcome keeps the stored size
  EXPECT_EQ(out.height, 4000);
  int w = 0, h = 0;
  libjpeg_scaled_size(jpeg, hm::jpeg_fast_scale(6000, 4000), w, h);
  EXPECT_EQ(sink.format().width, w);
  EXPECT_EQ(sink.format().height, h);
  EXPECT_EQ(sink.format().channels, 1);

  // The fast luma tracks the exact decode's: compare each fast pixel with the
  // mean BT.601 luma of the exact pixels it covers (6000 / 1500 = 4 x 4).
  hm::FullImageSink exact;
  ASSERT_TRUE(hm::decode_image(jpeg.data(), jpeg.size(), hm::DecodeOptions{}, exact).ok());
  const int f = 6000 / w;
  ASSERT_EQ(f * w, 6000);
  ASSERT_EQ(f * h, 4000);
  const std::vector<uint8_t>& rgb = exact.pixels();
  double total = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double sum = 0;
      for (int dy = 0; dy < f; ++dy)
        for (int dx = 0; dx < f; ++dx) {
          const uint8_t* p = &rgb[(((size_t)(y * f + dy)) * 6000 + (x * f + dx)) * 3];
          sum += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
        }
      total += std::abs(sum / (f * f) - sink.pixels()[(size_t)y * w + x]);
    }
  const double mean_abs = total / ((double)w * h);
  printf("fast vs exact luma, %d x %d: mean |difference| %.3f\n", w, h, mean_abs);
  EXPECT_LT(mean_abs, 2.0);
}

TEST(DecodeFast, GoldenJpegHashesStayClose) {
  hm::FileHasher exact(pdq_only(hm::DecodeMode::Exact));
  hm::FileHasher fast(pdq_only(hm::DecodeMode::Fast));
  std::vector<int> distances;
  for (const std::string& path : golden_files()) {
    const hm::HashRecord e = exact.hash_file(path);
    const hm::HashRecord f = fast.hash_file(path);
    SCOPED_TRACE(path);
    // Whatever the decode, the file's identity and failures are the same.
    EXPECT_EQ(e.format, f.format);
    EXPECT_EQ(e.width, f.width);
    EXPECT_EQ(e.height, f.height);
    EXPECT_EQ(e.error.empty(), f.error.empty()) << e.error << " / " << f.error;
    if (e.format != "jpeg" || !e.has_pdq || !f.has_pdq) continue;
    distances.push_back(popcount_distance(e.pdq, f.pdq));
  }
  ASSERT_GE(distances.size(), 300u);
  const double mean = std::accumulate(distances.begin(), distances.end(), 0.0) / distances.size();
  const int max = *std::max_element(distances.begin(), distances.end());
  const size_t within =
      (size_t)std::count_if(distances.begin(), distances.end(), [](int d) { return d <= 31; });
  const double share = (double)within / distances.size();
  printf("fast vs exact PDQ on %zu golden JPEGs: mean %.2f bits, max %d, within 31: %.1f%%\n",
         distances.size(), mean, max, 100 * share);
  EXPECT_GE(share, 0.90);
  EXPECT_LE(mean, 8.0);
}

TEST(DecodeFast, NonJpegFilesAreUnchanged) {
  hm::FileHasher exact(pdq_only(hm::DecodeMode::Exact));
  hm::FileHasher fast(pdq_only(hm::DecodeMode::Fast));
  int compared = 0;
  for (const std::string& path : golden_files()) {
    const hm::HashRecord e = exact.hash_file(path);
    if (e.format == "jpeg" || e.format.empty()) continue;
    const hm::HashRecord f = fast.hash_file(path);
    SCOPED_TRACE(path);
    EXPECT_EQ(e.error, f.error);
    EXPECT_EQ(e.warnings, f.warnings);
    EXPECT_EQ(e.has_pdq, f.has_pdq);
    EXPECT_EQ(e.pdq, f.pdq);
    EXPECT_EQ(e.quality, f.quality);
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

}  // namespace
