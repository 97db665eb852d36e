// PNG, WebP, GIF and BMP decoders against ImageMagick's pixels, plus hostile-input checks.
//
// The fixtures and tests/data/decode/expected.tsv come from tests/data/decode/make_fixtures.sh:
// the expected pixels are ImageMagick's `convert FILE pnm:-` output (the reference's loader),
// never our own decoder's.
#include <gtest/gtest.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "decode.hpp"
#include "decode_test_support.hpp"

namespace hm {
namespace {

const std::string kDecodeDir = std::string(HM_TEST_DATA) + "/decode/";

using test::CheckingSink;
using test::expect_safe_decode;
using test::fnv1a64;
using test::has_stage_prefix;
using test::read_file;

struct Expectation {
  std::string file;
  std::string type;  // P4, P5, P6
  int width = 0;
  int height = 0;
  std::string low;    // Sample16::LowByte
  std::string scale;  // Sample16::Scale
};

std::vector<Expectation> load_expectations() {
  std::vector<Expectation> rows;
  std::ifstream in(kDecodeDir + "expected.tsv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    Expectation e;
    fields >> e.file >> e.type >> e.width >> e.height >> e.low >> e.scale;
    rows.push_back(e);
  }
  return rows;
}

ImageFormat format_of(const std::string& file) {
  const std::string ext = file.substr(file.rfind('.') + 1);
  if (ext == "png") return ImageFormat::Png;
  if (ext == "webp") return ImageFormat::Webp;
  if (ext == "gif") return ImageFormat::Gif;
  if (ext == "bmp") return ImageFormat::Bmp;
  return ImageFormat::Unknown;
}

// --- Every fixture against ImageMagick --------------------------------------------------------

class DecodeFormatFixture : public ::testing::TestWithParam<Expectation> {};

TEST_P(DecodeFormatFixture, MatchesImageMagick) {
  const Expectation& e = GetParam();
  const std::vector<uint8_t> data = read_file(kDecodeDir + e.file);
  ASSERT_FALSE(data.empty()) << "missing fixture " << e.file;
  for (Sample16 mode : {Sample16::Scale, Sample16::LowByte}) {
    SCOPED_TRACE(mode == Sample16::Scale ? "Sample16::Scale" : "Sample16::LowByte");
    DecodeOptions options;
    options.sample16 = mode;
    FullImageSink sink;
    const DecodeOutcome out = decode_image(data.data(), data.size(), options, sink);
    ASSERT_TRUE(out.ok()) << out.error;
    EXPECT_EQ(out.format, format_of(e.file));
    EXPECT_EQ(out.width, e.width);
    EXPECT_EQ(out.height, e.height);
    const PixelFormat& f = sink.format();
    ASSERT_EQ(f.width, e.width);
    ASSERT_EQ(f.height, e.height);
    const std::string& want = mode == Sample16::Scale ? e.scale : e.low;
    const std::vector<uint8_t>& px = sink.pixels();
    if (out.format == ImageFormat::Bmp) {
      // CImg reads uncompressed BMPs (always RGB); compressed ones go through ImageMagick.
      EXPECT_EQ(f.channels, 3);
      const uint32_t compression =
          data[14] == 12 ? 0 : data[30] | data[31] << 8 | data[32] << 16 | (uint32_t)data[33] << 24;
      EXPECT_EQ(f.detect_grey, compression != 0);
    }
    if (f.channels == 1) {
      EXPECT_NE(e.type, "P6") << "grey output for a colour image";
      EXPECT_EQ(fnv1a64(px), want);
    } else if (e.type == "P6") {
      EXPECT_EQ(fnv1a64(px), want);
    } else {
      // ImageMagick saw grey: the sink's grey detection must find R = G = B everywhere.
      ASSERT_TRUE(f.detect_grey);
      std::vector<uint8_t> red(px.size() / 3);
      bool all_grey = true;
      for (size_t i = 0; i < red.size(); ++i) {
        red[i] = px[i * 3];
        all_grey = all_grey && px[i * 3 + 1] == red[i] && px[i * 3 + 2] == red[i];
      }
      EXPECT_TRUE(all_grey);
      EXPECT_EQ(fnv1a64(red), want);
    }
  }
}

std::string fixture_name(const ::testing::TestParamInfo<Expectation>& info) {
  std::string name = info.param.file;
  for (char& c : name)
    if (!isalnum((unsigned char)c)) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DecodeFormatFixture, ::testing::ValuesIn(load_expectations()),
                         fixture_name);

TEST(DecodeFormats, ExpectationsCoverEveryFormat) {
  const std::vector<Expectation> rows = load_expectations();
  ASSERT_GE(rows.size(), 50u) << "expected.tsv missing or short";
  int counts[6] = {0};
  for (const Expectation& e : rows) ++counts[(int)format_of(e.file)];
  EXPECT_GT(counts[(int)ImageFormat::Png], 0);
  EXPECT_GT(counts[(int)ImageFormat::Webp], 0);
  EXPECT_GT(counts[(int)ImageFormat::Gif], 0);
  EXPECT_GT(counts[(int)ImageFormat::Bmp], 0);
}

// --- Hostile input ------------------------------------------------------------------------------

TEST(DecodeFormatsRobustness, TruncatedFixtures) {
  DecodeOptions options;
  options.max_pixels = 1u << 22;
  for (const Expectation& e : load_expectations()) {
    SCOPED_TRACE(e.file);
    const std::vector<uint8_t> data = read_file(kDecodeDir + e.file);
    std::vector<size_t> lengths;
    for (size_t n = 0; n <= 160 && n < data.size(); ++n) lengths.push_back(n);
    for (size_t n = 160; n < data.size(); n += 1 + data.size() / 24) lengths.push_back(n);
    lengths.push_back(data.size() / 2);
    if (!data.empty()) lengths.push_back(data.size() - 1);
    for (size_t n : lengths) {
      SCOPED_TRACE("truncated to " + std::to_string(n) + " of " + std::to_string(data.size()));
      expect_safe_decode(data.data(), n, options);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(DecodeFormatsRobustness, TruncatedFilesSayTruncatedOrStillDecode) {
  // Spot checks on the messages: a PNG cut in its image data says "truncated".
  const std::vector<uint8_t> png = read_file(kDecodeDir + "png_rgb8.png");
  ASSERT_FALSE(png.empty());
  FullImageSink sink;
  const DecodeOutcome out = decode_image(png.data(), png.size() / 2, DecodeOptions{}, sink);
  EXPECT_EQ(out.error.rfind("decode:", 0), 0u) << out.error;
  EXPECT_NE(out.error.find("truncated"), std::string::npos) << out.error;
  EXPECT_EQ(out.format, ImageFormat::Png);
  EXPECT_EQ(out.width, 97);
}

TEST(DecodeFormatsRobustness, RandomCorruption) {
  DecodeOptions options;
  options.max_pixels = 1u << 22;
  const uint32_t base_seed = 20240611;
  for (const Expectation& e : load_expectations()) {
    const std::vector<uint8_t> data = read_file(kDecodeDir + e.file);
    ASSERT_GT(data.size(), 16u);
    for (int trial = 0; trial < 40; ++trial) {
      const uint32_t seed = base_seed + (uint32_t)trial * 7919u + (uint32_t)data.size();
      SCOPED_TRACE(e.file + " seed " + std::to_string(seed));
      std::mt19937 rng(seed);
      std::vector<uint8_t> bad = data;
      const int flips = 1 + (int)(rng() % 8);
      for (int i = 0; i < flips; ++i) {
        // Mostly keep the magic bytes, so the format's own decoder sees the damage.
        const size_t from = trial % 4 == 0 ? 0 : std::min<size_t>(12, bad.size() - 1);
        const size_t at = from + rng() % (bad.size() - from);
        bad[at] = trial % 3 == 0 ? (uint8_t)(bad[at] ^ (1u << (rng() % 8))) : (uint8_t)rng();
      }
      expect_safe_decode(bad.data(), bad.size(), options);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(DecodeFormatsRobustness, EmptyInput) {
  FullImageSink sink;
  const DecodeOptions options;
  DecodeOutcome out = decode_image(nullptr, 0, options, sink);
  EXPECT_FALSE(out.ok());
  EXPECT_TRUE(has_stage_prefix(out.error)) << out.error;
  const uint8_t byte = 0;
  for (auto decoder : {decode_png, decode_webp, decode_gif, decode_bmp}) {
    out = decoder(nullptr, 0, options, sink);
    EXPECT_EQ(out.error.rfind("decode:", 0), 0u) << out.error;
    out = decoder(&byte, 1, options, sink);
    EXPECT_EQ(out.error.rfind("decode:", 0), 0u) << out.error;
  }
}

// --- Headers claiming 65535 x 65535 -------------------------------------------------------------

void put_be32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back((uint8_t)(x >> s));
}
void put_le16(std::vector<uint8_t>& v, uint32_t x) {
  v.push_back((uint8_t)x);
  v.push_back((uint8_t)(x >> 8));
}
void put_le32(std::vector<uint8_t>& v, uint32_t x) {
  put_le16(v, x & 0xffff);
  put_le16(v, x >> 16);
}

uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return c ^ 0xffffffffu;
}

std::vector<uint8_t> png_header(uint32_t width, uint32_t height) {
  std::vector<uint8_t> v = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  put_be32(v, 13);
  const size_t type_at = v.size();
  v.insert(v.end(), {'I', 'H', 'D', 'R'});
  put_be32(v, width);
  put_be32(v, height);
  v.insert(v.end(), {8, 2, 0, 0, 0});
  put_be32(v, crc32(&v[type_at], v.size() - type_at));
  return v;
}

std::vector<uint8_t> gif_header(uint32_t screen_w, uint32_t screen_h, uint32_t frame_w,
                                uint32_t frame_h, bool colour_map = true) {
  std::vector<uint8_t> v = {'G', 'I', 'F', '8', '9', 'a'};
  put_le16(v, screen_w);
  put_le16(v, screen_h);
  v.push_back(colour_map ? 0x80 : 0x00);  // a 2-entry global colour map, or none
  v.push_back(0);
  v.push_back(0);
  if (colour_map) v.insert(v.end(), {0, 0, 0, 255, 255, 255});
  v.push_back(0x2c);
  put_le16(v, 0);
  put_le16(v, 0);
  put_le16(v, frame_w);
  put_le16(v, frame_h);
  v.push_back(0);
  // LZW data (minimum code size 2) for the indices 1, 0, 1, 0; then the trailer.
  v.insert(v.end(), {2, 4, 0x0c, 0xc1, 0x10, 0x05, 0, 0x3b});
  return v;
}

std::vector<uint8_t> bmp_header(int32_t width, int32_t height, int bpp = 24) {
  std::vector<uint8_t> v = {'B', 'M'};
  put_le32(v, 0);
  put_le32(v, 0);
  put_le32(v, 54);
  put_le32(v, 40);
  put_le32(v, (uint32_t)width);
  put_le32(v, (uint32_t)height);
  put_le16(v, 1);
  put_le16(v, (uint32_t)bpp);
  for (int i = 0; i < 6; ++i) put_le32(v, 0);
  v.resize(v.size() + 64, 0x55);  // a little pixel data
  return v;
}

std::vector<uint8_t> webp_vp8x_header(uint32_t width, uint32_t height, bool animated) {
  std::vector<uint8_t> v = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P',
                            'V', 'P', '8', 'X', 10, 0, 0, 0};
  v.push_back(animated ? 0x02 : 0x00);
  v.insert(v.end(), {0, 0, 0});
  for (uint32_t d : {width - 1, height - 1}) {
    v.push_back((uint8_t)d);
    v.push_back((uint8_t)(d >> 8));
    v.push_back((uint8_t)(d >> 16));
  }
  if (animated) v.insert(v.end(), {'A', 'N', 'I', 'M', 6, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  const uint32_t riff = (uint32_t)v.size() - 8;
  for (int i = 0; i < 4; ++i) v[4 + i] = (uint8_t)(riff >> (8 * i));
  return v;
}

std::vector<uint8_t> webp_vp8l_header(uint32_t width, uint32_t height) {
  std::vector<uint8_t> v = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P',
                            'V', 'P', '8', 'L', 0, 0, 0, 0};
  const uint32_t bits = (width - 1) | (height - 1) << 14;  // no alpha, version 0
  v.push_back(0x2f);
  put_le32(v, bits);
  v.resize(v.size() + 32, 0);
  const uint32_t chunk = (uint32_t)v.size() - 20;
  for (int i = 0; i < 4; ++i) v[16 + i] = (uint8_t)(chunk >> (8 * i));
  const uint32_t riff = (uint32_t)v.size() - 8;
  for (int i = 0; i < 4; ++i) v[4 + i] = (uint8_t)(riff >> (8 * i));
  return v;
}

void expect_limit(const std::vector<uint8_t>& data, ImageFormat format) {
  DecodeOptions options;
  options.max_pixels = 1'000'000;
  CheckingSink sink;
  const DecodeOutcome out = decode_image(data.data(), data.size(), options, sink);
  EXPECT_EQ(out.error.rfind("limit:", 0), 0u) << out.error;
  EXPECT_EQ(out.format, format);
  EXPECT_EQ(sink.begins, 0);
}

TEST(DecodeFormatsLimit, PngIhdr) {
  expect_limit(png_header(65535, 65535), ImageFormat::Png);
  expect_limit(png_header(0x7fffffff, 2), ImageFormat::Png);
}

TEST(DecodeFormatsLimit, GifFrameNotScreen) {
  expect_limit(gif_header(16, 16, 65535, 65535), ImageFormat::Gif);
  // The logical screen is never allocated and the reference hashes the frame
  // at its own size, so a huge screen around a 2x2 frame decodes.
  DecodeOptions options;
  options.max_pixels = 1'000'000;
  for (const auto& [screen_w, screen_h] : {std::pair{16u, 16u}, std::pair{65535u, 65535u}}) {
    FullImageSink sink;
    const std::vector<uint8_t> gif = gif_header(screen_w, screen_h, 2, 2);
    const DecodeOutcome out = decode_image(gif.data(), gif.size(), options, sink);
    ASSERT_TRUE(out.ok()) << out.error;
    EXPECT_EQ(out.width, 2);
    EXPECT_EQ(sink.format().height, 2);
  }
}

TEST(DecodeFormatsLimit, BmpHeader) {
  expect_limit(bmp_header(65535, 65535), ImageFormat::Bmp);
  expect_limit(bmp_header(65535, -65535), ImageFormat::Bmp);
  expect_limit(bmp_header(65535, 65535, 8), ImageFormat::Bmp);
}

TEST(DecodeFormatsLimit, WebpCanvas) {
  expect_limit(webp_vp8x_header(65535, 65535, false), ImageFormat::Webp);
  expect_limit(webp_vp8x_header(65535, 65535, true), ImageFormat::Webp);
  expect_limit(webp_vp8l_header(16384, 16384), ImageFormat::Webp);
}

// --- Format details -------------------------------------------------------------------------

TEST(DecodeFormatsGif, NoColourMapIsAnError) {
  const std::vector<uint8_t> gif = gif_header(2, 2, 2, 2, /*colour_map=*/false);
  FullImageSink sink;
  const DecodeOutcome out = decode_image(gif.data(), gif.size(), DecodeOptions{}, sink);
  EXPECT_EQ(out.error.rfind("decode:", 0), 0u) << out.error;
  EXPECT_NE(out.error.find("colour map"), std::string::npos) << out.error;
}

TEST(DecodeFormatsGif, ManyFramesOnlyFirstIsRead) {
  // 200,000 frames after the first: decoding must stop at the first image.
  std::vector<uint8_t> gif = gif_header(2, 2, 2, 2);
  gif.pop_back();  // trailer
  const std::vector<uint8_t> frame = {0x2c, 0, 0, 0, 0, 2, 0, 2, 0, 0,
                                     2,    4, 0x0c, 0xc1, 0x10, 0x05, 0};
  gif.reserve(gif.size() + frame.size() * 200000 + 1);
  for (int i = 0; i < 200000; ++i) gif.insert(gif.end(), frame.begin(), frame.end());
  gif.push_back(0x3b);
  FullImageSink sink;
  const DecodeOutcome out = decode_image(gif.data(), gif.size(), DecodeOptions{}, sink);
  ASSERT_TRUE(out.ok()) << out.error;
  // Pixels 1, 0, 1, 0 through the map {black, white}.
  const std::vector<uint8_t> want = {255, 255, 255, 0, 0, 0, 255, 255, 255, 0, 0, 0};
  EXPECT_EQ(sink.pixels(), want);
}

TEST(DecodeFormatsBmp, ShortPixelDataIsBlackWithAWarning) {
  // A 4x4 24-bit BMP with one stored (bottom) row: like CImg, the missing rows are black.
  std::vector<uint8_t> bmp = bmp_header(4, 4);
  bmp.resize(54 + 12);  // exactly one row of 4 pixels (12 bytes, no padding needed)
  FullImageSink sink;
  const DecodeOutcome out = decode_image(bmp.data(), bmp.size(), DecodeOptions{}, sink);
  ASSERT_TRUE(out.ok()) << out.error;
  EXPECT_FALSE(out.warnings.empty());
  const std::vector<uint8_t>& px = sink.pixels();
  for (size_t i = 0; i < 36; ++i) EXPECT_EQ(px[i], 0) << i;
  for (size_t i = 36; i < 48; ++i) EXPECT_EQ(px[i], 0x55) << i;
}

TEST(DecodeFormatsBmp, UnsupportedDepthAndCompression) {
  FullImageSink sink;
  std::vector<uint8_t> bmp = bmp_header(4, 4, 2);
  DecodeOutcome out = decode_image(bmp.data(), bmp.size(), DecodeOptions{}, sink);
  EXPECT_EQ(out.error.rfind("unsupported:", 0), 0u) << out.error;
  bmp = bmp_header(4, 4, 24);
  bmp[30] = 4;  // BI_JPEG
  out = decode_image(bmp.data(), bmp.size(), DecodeOptions{}, sink);
  EXPECT_EQ(out.error.rfind("unsupported:", 0), 0u) << out.error;
}

}  // namespace
}  // namespace hm
