// The JPEG raw path (libjpeg's planes, upsampled and converted only at the
// selected pixels) against libjpeg's own full decode, pixel for pixel.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "decode.hpp"
#include "decode_test_support.hpp"
#include "pixel_sink.hpp"

namespace {

using hm::test::read_file;

/// Asks for some columns of some rows and records what the decoder delivers.
class SelectiveSink final : public hm::PixelSink {
 public:
  explicit SelectiveSink(uint32_t seed) : rng_(seed) {}
  void begin(const hm::PixelFormat& format) override {
    format_ = format;
    // A quarter of the columns (non-decreasing, repeats allowed) of about an
    // eighth of the rows: sparse enough for the raw path.
    std::uniform_int_distribution<int> col(0, format.width - 1);
    selection_.cols.resize(std::max(1, format.width / 4));
    for (int& c : selection_.cols) c = col(rng_);
    selection_.cols.front() = 0;  // the edges have their own filter taps
    selection_.cols.back() = format.width - 1;
    std::sort(selection_.cols.begin(), selection_.cols.end());
    const bool preresize = rng_() % 2 && format.width > 512;
    if (preresize) {
      // Or the pre-resize's own columns, which the decoder gathers by permutes.
      selection_.cols.resize(512);
      for (int x = 0; x < 512; ++x) selection_.cols[x] = (int)((int64_t)x * format.width / 512);
    }
    selection_.rows.clear();
    if (preresize && format.height > 512) {
      // ... and rows: dense below 1024 px, where the decoder skips scanlines
      // instead of taking the raw path.
      for (int y = 0; y < 512; ++y) {
        const int row = (int)((int64_t)y * format.height / 512);
        if (selection_.rows.empty() || selection_.rows.back() != row) selection_.rows.push_back(row);
      }
      return;
    }
    for (int y = 0; y < format.height; ++y)
      if (y == 0 || y == format.height - 1 || (y % 4 == 1 && rng_() % 2)) selection_.rows.push_back(y);
  }
  void row(int, const uint8_t*) override { ++full_rows; }
  const hm::PixelSelection* selection() const override { return &selection_; }
  void selected_row(int y, const uint32_t* rgb) override {
    ys.push_back(y);
    rows.emplace_back(rgb, rgb + selection_.cols.size());
  }
  void colour_seen() override { ++colour_calls; }
  void end_selected(bool grey) override {
    ++end_calls;
    all_grey = grey;
  }

  hm::PixelFormat format_;
  hm::PixelSelection selection_;
  std::vector<int> ys;
  std::vector<std::vector<uint32_t>> rows;
  int full_rows = 0;
  int colour_calls = 0;
  int end_calls = 0;
  bool all_grey = false;

 private:
  std::mt19937 rng_;
};

/// Checks one file; returns false when the decoder delivered whole rows
/// instead of the selection (raw path or skipping scanlines).
bool check_raw_path(const std::string& path, uint32_t seed) {
  SCOPED_TRACE(path + " seed " + std::to_string(seed));
  const auto bytes = read_file(path);
  hm::FullImageSink full;
  const hm::DecodeOutcome whole = hm::decode_image(bytes.data(), bytes.size(), {}, full);
  EXPECT_TRUE(whole.ok()) << whole.error;
  SelectiveSink sink(seed);
  const hm::DecodeOutcome raw = hm::decode_image(bytes.data(), bytes.size(), {}, sink);
  EXPECT_TRUE(raw.ok()) << raw.error;
  EXPECT_EQ(raw.warnings, whole.warnings);
  if (sink.full_rows > 0) return false;
  const int w = full.format().width;
  const int c = full.format().channels;
  EXPECT_EQ(c, 3);
  EXPECT_EQ(sink.ys, sink.selection_.rows);
  EXPECT_EQ(sink.end_calls, 1);
  bool grey = true;
  const auto& px = full.pixels();
  for (size_t i = 0; i < px.size(); i += 3) grey &= px[i] == px[i + 1] && px[i + 1] == px[i + 2];
  EXPECT_EQ(sink.all_grey, grey);
  EXPECT_EQ(sink.colour_calls, grey ? 0 : 1);
  int mismatches = 0;
  for (size_t r = 0; r < sink.ys.size() && r < sink.rows.size(); ++r)
    for (size_t j = 0; j < sink.selection_.cols.size(); ++j) {
      const uint8_t* p = px.data() + ((size_t)sink.ys[r] * w + sink.selection_.cols[j]) * 3;
      const uint32_t want = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
      if (sink.rows[r][j] != want && ++mismatches <= 3)
        ADD_FAILURE() << "pixel (" << sink.selection_.cols[j] << ", " << sink.ys[r] << ") raw "
                      << std::hex << sink.rows[r][j] << " full " << want;
    }
  EXPECT_EQ(mismatches, 0);
  return true;
}

TEST(JpegRawPath, FixturesOfEverySamplingMatchTheFullDecode) {
  const std::string dir = std::string(HM_TEST_DATA) + "/decode-jpeg/";
  // 4:2:0 (plain, progressive, arithmetic, restarts, non-interleaved,
  // truncated), 4:2:2 and 4:4:4 take the raw path.
  const std::vector<std::string> raw = {
      "jpeg_420.jpg",          "jpeg_422.jpg",           "jpeg_444.jpg",
      "jpeg_17x9_420.jpg",     "jpeg_17x9_422.jpg",      "jpeg_17x9_progressive.jpg",
      "jpeg_progressive.jpg",  "jpeg_arith.jpg",         "jpeg_arith_progressive.jpg",
      "jpeg_restart_rows.jpg", "jpeg_restart_blocks.jpg", "jpeg_restart_progressive.jpg",
      "jpeg_noninterleaved.jpg", "jpeg_truncated_60pct.jpg", "jpeg_truncated_progressive.jpg",
      "jpeg_allgrey_ycbcr.jpg", "jpeg_exif6.jpg",        "jpeg_extraneous.jpg"};
  for (const auto& name : raw)
    for (uint32_t seed = 1; seed <= 3; ++seed)
      EXPECT_TRUE(check_raw_path(dir + name, seed)) << name << " did not take the raw path";
  // Other colour layouts are read as scanlines, skipping unselected rows:
  // the same selected delivery, checked the same way.
  const std::vector<std::string> skipping = {"jpeg_411.jpg", "jpeg_440.jpg", "jpeg_rgb.jpg",
                                             "jpeg_1x1.jpg", "jpeg_7x3.jpg"};
  for (const auto& name : skipping)
    for (uint32_t seed = 1; seed <= 3; ++seed)
      EXPECT_TRUE(check_raw_path(dir + name, seed)) << name << " did not deliver selected rows";
  // CMYK and grey rows go to the sink whole.
  for (const char* name : {"jpeg_cmyk_adobe.jpg", "jpeg_ycck.jpg", "jpeg_grey.jpg"})
    EXPECT_FALSE(check_raw_path(dir + name, 1)) << name << " should deliver every row";
}

TEST(JpegRawPath, GoldenPhotosMatchTheFullDecode) {
  const std::string dir = std::string(HM_TEST_DATA) + "/pdq-golden/images";
  int raw = 0;
  uint32_t seed = 100;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".jpg" && e.path().filename().string().rfind("fail_", 0) != 0)
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) raw += check_raw_path(f, ++seed);
  // Every colour JPEG of the set (257 of them; the rest are 1-component grey
  // or CMYK) delivers the selection.
  EXPECT_EQ(raw, 257);
}

// Hostile input through the raw path: truncated and corrupted files never
// crash (the sanitizer build runs this too) and end ok or with a staged error.
TEST(JpegRawPath, TruncatedAndCorruptFilesAreSafe) {
  const std::string dir = std::string(HM_TEST_DATA) + "/decode-jpeg/";
  const uint32_t base_seed = 20261128;
  for (const char* name : {"jpeg_420.jpg", "jpeg_422.jpg", "jpeg_444.jpg", "jpeg_progressive.jpg"}) {
    const auto bytes = read_file(dir + name);
    std::mt19937 rng(base_seed);
    for (int trial = 0; trial < 120; ++trial) {
      std::vector<uint8_t> mangled(bytes);
      if (trial < 40) {
        mangled.resize(bytes.size() * (trial + 1) / 41);
      } else {
        for (int k = 0; k < 1 + trial % 8; ++k) mangled[rng() % mangled.size()] = (uint8_t)rng();
      }
      SCOPED_TRACE(std::string(name) + " trial " + std::to_string(trial) + " seed " +
                   std::to_string(base_seed));
      SelectiveSink sink(trial);
      const hm::DecodeOutcome out = hm::decode_image(mangled.data(), mangled.size(), {}, sink);
      if (!out.ok()) {
        const bool staged = out.error.rfind("decode: ", 0) == 0 ||
                            out.error.rfind("limit: ", 0) == 0 ||
                            out.error.rfind("unsupported: ", 0) == 0;
        EXPECT_TRUE(staged) << out.error;
      } else if (sink.full_rows == 0) {
        EXPECT_EQ(sink.ys, sink.selection_.rows);
        EXPECT_EQ(sink.end_calls, 1);
      }
    }
  }
}

}  // namespace
