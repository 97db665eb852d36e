// Format sniffing, decode_image dispatch and the JPEG decoder.
//
// The JPEG fixtures and tests/data/decode-jpeg/expected.tsv come from
// tests/data/decode-jpeg/make_fixtures.sh: the expected pixels are ImageMagick's
// `convert FILE pnm:-` output (the reference's loader), never our own decoder's. The golden
// photos are also checked against libjpeg-turbo's own RGB output, decoded here directly.
#include <gtest/gtest.h>

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <jpeglib.h>

#include "decode.hpp"
#include "decode_test_support.hpp"

namespace hm {
namespace {

const std::string kJpegDir = std::string(HM_TEST_DATA) + "/decode-jpeg/";
const std::string kDecodeDir = std::string(HM_TEST_DATA) + "/decode/";
const std::string kGoldenDir = std::string(HM_TEST_DATA) + "/pdq-golden/";

using test::CheckingSink;
using test::expect_safe_decode;
using test::fnv1a64;
using test::has_stage_prefix;
using test::read_file;

std::vector<uint8_t> bytes_of(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }
bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

DecodeOutcome decode(const std::vector<uint8_t>& data, PixelSink& sink,
                     const DecodeOptions& options = DecodeOptions{}) {
  return decode_image(data.empty() ? nullptr : data.data(), data.size(), options, sink);
}

// --- JPEG markers, for byte surgery --------------------------------------------------------------

struct Segment {
  uint8_t marker;
  size_t start;  // at the 0xff
  size_t end;    // past the segment's length field's extent (not its entropy data)
};

/// The marker segments from SOI up to and including the first SOS.
std::vector<Segment> header_segments(const std::vector<uint8_t>& d) {
  std::vector<Segment> out;
  size_t i = 2;
  while (i + 4 <= d.size() && d[i] == 0xff) {
    const uint8_t m = d[i + 1];
    const size_t n = (size_t)d[i + 2] << 8 | d[i + 3];
    out.push_back({m, i, i + 2 + n});
    if (m == 0xda) break;
    i += 2 + n;
  }
  return out;
}

/// Offsets of every SOS marker in the file (0xff 0xda is never inside entropy-coded data).
std::vector<size_t> sos_offsets(const std::vector<uint8_t>& d) {
  std::vector<size_t> out;
  for (size_t i = 0; i + 1 < d.size(); ++i)
    if (d[i] == 0xff && d[i + 1] == 0xda) out.push_back(i);
  return out;
}

/// A copy of `jpeg` with its SOF's height and width replaced.
std::vector<uint8_t> with_sof_size(std::vector<uint8_t> jpeg, uint16_t width, uint16_t height) {
  for (const Segment& s : header_segments(jpeg)) {
    if (s.marker >= 0xc0 && s.marker <= 0xcf && s.marker != 0xc4 && s.marker != 0xc8 &&
        s.marker != 0xcc) {
      jpeg[s.start + 5] = (uint8_t)(height >> 8);
      jpeg[s.start + 6] = (uint8_t)height;
      jpeg[s.start + 7] = (uint8_t)(width >> 8);
      jpeg[s.start + 8] = (uint8_t)width;
      return jpeg;
    }
  }
  ADD_FAILURE() << "no SOF";
  return jpeg;
}

// --- Sniffing ------------------------------------------------------------------------------------

ImageFormat sniff(const std::string& bytes) {
  return sniff_format(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::string bmp_with_header_size(uint32_t header_size) {
  std::string b = "BM";
  b.append(12, '\0');
  for (int i = 0; i < 4; ++i) b.push_back((char)(header_size >> (8 * i)));
  b.append(40, '\0');
  return b;
}

TEST(SniffFormat, MagicBytes) {
  using namespace std::string_literals;
  EXPECT_EQ(sniff("\xff\xd8\xff\xe0"s), ImageFormat::Jpeg);
  EXPECT_EQ(sniff("\xff\xd8\xff"s), ImageFormat::Jpeg);
  EXPECT_EQ(sniff("\xff\xd8\x00\xe0"s), ImageFormat::Unknown);
  EXPECT_EQ(sniff("\xff\xd8"s), ImageFormat::Unknown);
  EXPECT_EQ(sniff("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"s), ImageFormat::Png);
  EXPECT_EQ(sniff("\x89PNG\r\n\x1a"s), ImageFormat::Unknown);
  EXPECT_EQ(sniff("\x89PNG\n\r\x1a\n"s), ImageFormat::Unknown);
  EXPECT_EQ(sniff("RIFF\x10\0\0\0WEBPVP8 "s), ImageFormat::Webp);
  EXPECT_EQ(sniff("RIFF\x10\0\0\0WEBP"s), ImageFormat::Webp);
  EXPECT_EQ(sniff("RIFF\x10\0\0\0WEB"s), ImageFormat::Unknown);
  EXPECT_EQ(sniff("RIFF\x10\0\0\0AVI LIST"s), ImageFormat::Unknown);
  EXPECT_EQ(sniff("RIFF\x10\0\0\0WAVEfmt "s), ImageFormat::Unknown);
  EXPECT_EQ(sniff("GIF87a\x01\0\x01\0"s), ImageFormat::Gif);
  EXPECT_EQ(sniff("GIF89a"s), ImageFormat::Gif);
  EXPECT_EQ(sniff("GIF88a"s), ImageFormat::Unknown);
  EXPECT_EQ(sniff("GIF8"s), ImageFormat::Unknown);
}

TEST(SniffFormat, BmpNeedsAPlausibleHeaderSize) {
  for (uint32_t size : {12u, 16u, 40u, 52u, 56u, 64u, 108u, 124u}) {
    SCOPED_TRACE(size);
    EXPECT_EQ(sniff(bmp_with_header_size(size)), ImageFormat::Bmp);
  }
  for (uint32_t size : {0u, 11u, 13u, 39u, 41u, 100u, 125u, 0x28000000u, 0xffffffffu}) {
    SCOPED_TRACE(size);
    EXPECT_EQ(sniff(bmp_with_header_size(size)), ImageFormat::Unknown);
  }
  // "BM" followed by too few bytes to hold the header size.
  const std::string bmp = bmp_with_header_size(40);
  for (size_t n = 0; n < 18; ++n) EXPECT_EQ(sniff(bmp.substr(0, n)), ImageFormat::Unknown) << n;
  EXPECT_EQ(sniff(bmp.substr(0, 18)), ImageFormat::Bmp);
  // Text that happens to start with "BM".
  EXPECT_EQ(sniff("BMW cars are expensive"), ImageFormat::Unknown);
}

TEST(SniffFormat, NeverFromTheTail) {
  using namespace std::string_literals;
  EXPECT_EQ(sniff("xx\xff\xd8\xff"s), ImageFormat::Unknown);
  EXPECT_EQ(sniff(" GIF89a"s), ImageFormat::Unknown);
  EXPECT_EQ(sniff_format(nullptr, 0), ImageFormat::Unknown);
}

TEST(SniffFormat, Names) {
  EXPECT_STREQ(format_name(ImageFormat::Jpeg), "jpeg");
  EXPECT_STREQ(format_name(ImageFormat::Png), "png");
  EXPECT_STREQ(format_name(ImageFormat::Webp), "webp");
  EXPECT_STREQ(format_name(ImageFormat::Gif), "gif");
  EXPECT_STREQ(format_name(ImageFormat::Bmp), "bmp");
  EXPECT_STREQ(format_name(ImageFormat::Unknown), "unknown");
}

// --- Dispatch ------------------------------------------------------------------------------------

TEST(DecodeDispatch, EmptyInput) {
  FullImageSink sink;
  DecodeOutcome out = decode_image(nullptr, 0, DecodeOptions{}, sink);
  EXPECT_EQ(out.error, "decode: empty file");
  EXPECT_EQ(out.format, ImageFormat::Unknown);
  const uint8_t byte = 0xff;
  out = decode_image(&byte, 0, DecodeOptions{}, sink);
  EXPECT_EQ(out.error, "decode: empty file");
  // The JPEG decoder on its own.
  out = decode_jpeg(nullptr, 0, DecodeOptions{}, sink);
  EXPECT_TRUE(starts_with(out.error, "decode:")) << out.error;
  EXPECT_EQ(out.format, ImageFormat::Jpeg);
}

TEST(DecodeDispatch, RecognisedButUnsupported) {
  using namespace std::string_literals;
  struct Case {
    std::string bytes;
    const char* name;
  };
  const std::vector<Case> cases = {
      {"II*\0\x08\0\0\0"s, "TIFF"},
      {"MM\0*\0\0\0\x08"s, "TIFF"},
      {"\0\0\0\x18" "ftypheic\0\0\0\0"s, "HEIF"},
      {"\0\0\0\x18" "ftypheix\0\0\0\0"s, "HEIF"},
      {"\0\0\0\x18" "ftypmif1\0\0\0\0"s, "HEIF"},
      {"\0\0\0\x18" "ftypmsf1\0\0\0\0"s, "HEIF"},
      {"\0\0\0\x1c" "ftypavif\0\0\0\0"s, "AVIF"},
      {"\0\0\0\x1c" "ftypavis\0\0\0\0"s, "AVIF"},
      {"\0\0\0\x18" "ftypisom\0\0\0\0"s, "ISO media"},
      {"\0\0\0\x0cjP  \r\n\x87\n"s, "JPEG 2000"},
      {"\xff\x4f\xff\x51\0\x2f"s, "JPEG 2000"},
      {"\xff\x0a\xfa\x7f"s, "JPEG XL"},
      {"8BPS\0\x01"s, "PSD"},
      {"\0\0\1\0\1\0"s, "ICO"},
      {"%PDF-1.7\n"s, "PDF"},
      {"P1\n2 2\n0 1 1 0\n"s, "PNM"},
      {"P4\n8 1\n\xaa"s, "PNM"},
      {"P5\n1 1\n255\n\x80"s, "PNM"},
      {"P6\n1 1\n255\n\x80\x80\x80"s, "PNM"},
      {"P7\nWIDTH 1\n"s, "PNM"},
      {"RIFF\x10\0\0\0AVI LIST"s, "RIFF"},
      {"RIFF\x10\0\0\0WAVEfmt "s, "RIFF"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(sniff(c.bytes), ImageFormat::Unknown);
    CheckingSink sink;
    const DecodeOutcome out = decode(bytes_of(c.bytes), sink);
    EXPECT_TRUE(starts_with(out.error, "unsupported: ")) << out.error;
    EXPECT_TRUE(contains(out.error, c.name)) << out.error;
    EXPECT_TRUE(contains(out.error, "not a supported image format")) << out.error;
    EXPECT_EQ(out.format, ImageFormat::Unknown);
    EXPECT_EQ(sink.begins, 0);
  }
  // The exact texts, for the record (decode.cpp builds them).
  FullImageSink sink;
  EXPECT_EQ(decode(bytes_of("II*\0rest"s), sink).error,
            "unsupported: TIFF is not a supported image format");
  EXPECT_EQ(decode(bytes_of("%PDF-1.4"s), sink).error,
            "unsupported: PDF is not a supported image format");
  EXPECT_EQ(decode(bytes_of("RIFF\x10\0\0\0AVI LIST"s), sink).error,
            "unsupported: a RIFF file that is not WebP is not a supported image format");
}

TEST(DecodeDispatch, UnrecognisedBytes) {
  using namespace std::string_literals;
  for (const std::string& bytes :
       {"this is not an image\n"s, "\0\0\0\0\0\0\0\0"s, "P8 no such PNM"s, "Px"s,
        "BM with an implausible header size........"s, "\xff\xd8\x00\x00"s, "<svg></svg>"s}) {
    SCOPED_TRACE(bytes);
    FullImageSink sink;
    const DecodeOutcome out = decode(bytes_of(bytes), sink);
    EXPECT_TRUE(starts_with(out.error, "unsupported: not a recognised image format")) << out.error;
    EXPECT_EQ(out.format, ImageFormat::Unknown);
  }
  // The golden set's text file named .jpg is refused by its bytes, not its name.
  const std::vector<uint8_t> text = read_file(kGoldenDir + "images/fail_text_as_jpeg__orig.jpg");
  ASSERT_FALSE(text.empty());
  FullImageSink sink;
  EXPECT_TRUE(starts_with(decode(text, sink).error, "unsupported:"));
}

TEST(DecodeDispatch, OneAndTwoByteInputs) {
  for (int a = 0; a < 256; ++a) {
    const uint8_t one[1] = {(uint8_t)a};
    FullImageSink sink;
    const DecodeOutcome out = decode_image(one, 1, DecodeOptions{}, sink);
    ASSERT_FALSE(out.ok());
    ASSERT_TRUE(has_stage_prefix(out.error)) << out.error;
    for (int b = 0; b < 256; ++b) {
      // An exactly sized heap buffer, so that any overread trips AddressSanitizer.
      std::vector<uint8_t> two = {(uint8_t)a, (uint8_t)b};
      const DecodeOutcome out2 = decode(two, sink);
      ASSERT_FALSE(out2.ok());
      ASSERT_TRUE(has_stage_prefix(out2.error)) << a << " " << b << ": " << out2.error;
    }
  }
}

TEST(DecodeDispatch, EachFormatReachesItsDecoder) {
  struct Case {
    std::string path;
    ImageFormat format;
  };
  for (const Case& c : {Case{kJpegDir + "jpeg_420.jpg", ImageFormat::Jpeg},
                        Case{kDecodeDir + "png_rgb8.png", ImageFormat::Png},
                        Case{kDecodeDir + "webp_lossy.webp", ImageFormat::Webp},
                        Case{kDecodeDir + "gif_basic.gif", ImageFormat::Gif},
                        Case{kDecodeDir + "bmp24.bmp", ImageFormat::Bmp}}) {
    SCOPED_TRACE(c.path);
    const std::vector<uint8_t> data = read_file(c.path);
    ASSERT_FALSE(data.empty());
    EXPECT_EQ(sniff_format(data.data(), data.size()), c.format);
    CheckingSink sink;
    const DecodeOutcome out = decode(data, sink);
    ASSERT_TRUE(out.ok()) << out.error;
    EXPECT_EQ(out.format, c.format);
    EXPECT_EQ(sink.begins, 1);
    EXPECT_EQ(sink.rows, out.height);
    EXPECT_EQ(sink.format().width, out.width);
  }
}

TEST(DecodeDispatch, CheckPixelLimit) {
  DecodeOptions options;
  EXPECT_EQ(options.max_pixels, kDefaultMaxPixels);
  EXPECT_EQ(check_pixel_limit(1, 1, options), "");
  EXPECT_EQ(check_pixel_limit(16000, 12500, options), "");  // exactly 200 M
  EXPECT_TRUE(starts_with(check_pixel_limit(16000, 12501, options), "limit:"));
  EXPECT_TRUE(starts_with(check_pixel_limit(65535, 65535, options), "limit:"));
  EXPECT_TRUE(starts_with(check_pixel_limit(0xffffffffu, 0xffffffffu, options), "limit:"));
  EXPECT_EQ(check_pixel_limit(0, 5, options), "decode: image has zero size (0x5)");
  EXPECT_EQ(check_pixel_limit(5, 0, options), "decode: image has zero size (5x0)");
  options.max_pixels = 100;
  EXPECT_EQ(check_pixel_limit(10, 10, options), "");
  EXPECT_EQ(check_pixel_limit(101, 1, options),
            "limit: image is 101x1 = 101 pixels, above the limit of 100 (--max-pixels)");
}

// --- JPEG fixtures against ImageMagick --------------------------------------------------------

struct Expectation {
  std::string file;
  std::string type;  // P5, P6, or "error"
  int width = 0;
  int height = 0;
  std::string fnv;
  int warning = 0;
};

std::vector<Expectation> load_expectations() {
  std::vector<Expectation> rows;
  std::ifstream in(kJpegDir + "expected.tsv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    Expectation e;
    fields >> e.file >> e.type >> e.width >> e.height >> e.fnv >> e.warning;
    rows.push_back(e);
  }
  return rows;
}

std::vector<uint8_t> fixture(const std::string& name) {
  std::vector<uint8_t> data = read_file(kJpegDir + name);
  EXPECT_FALSE(data.empty()) << "missing fixture " << name;
  return data;
}

class JpegFixture : public ::testing::TestWithParam<Expectation> {};

TEST_P(JpegFixture, MatchesImageMagick) {
  const Expectation& e = GetParam();
  const std::vector<uint8_t> data = fixture(e.file);
  ASSERT_FALSE(data.empty());
  FullImageSink sink;
  const DecodeOutcome out = decode(data, sink);
  EXPECT_EQ(out.format, ImageFormat::Jpeg);
  for (const std::string& w : out.warnings) EXPECT_TRUE(starts_with(w, "decode: ")) << w;
  if (e.type == "error") {
    EXPECT_TRUE(starts_with(out.error, "decode: ")) << out.error;
    return;
  }
  ASSERT_TRUE(out.ok()) << out.error;
  // We warn exactly where ImageMagick did (truncated or corrupt data).
  if (e.warning)
    EXPECT_FALSE(out.warnings.empty());
  else
    EXPECT_TRUE(out.warnings.empty()) << out.warnings.front();
  EXPECT_EQ(out.width, e.width);
  EXPECT_EQ(out.height, e.height);
  const PixelFormat& f = sink.format();
  ASSERT_EQ(f.width, e.width);
  ASSERT_EQ(f.height, e.height);
  EXPECT_TRUE(f.detect_grey);
  const std::vector<uint8_t>& px = sink.pixels();
  if (f.channels == 1) {
    EXPECT_EQ(e.type, "P5") << "grey output for a colour image";
    EXPECT_EQ(fnv1a64(px), e.fnv);
  } else if (e.type == "P6") {
    EXPECT_EQ(fnv1a64(px), e.fnv);
  } else {
    // ImageMagick saw grey in a colour JPEG: R = G = B everywhere, equal to its P5 samples.
    std::vector<uint8_t> red(px.size() / 3);
    size_t not_grey = 0;
    for (size_t i = 0; i < red.size(); ++i) {
      red[i] = px[i * 3];
      not_grey += px[i * 3 + 1] != red[i] || px[i * 3 + 2] != red[i];
    }
    EXPECT_EQ(not_grey, 0u);
    EXPECT_EQ(fnv1a64(red), e.fnv);
  }
}

std::string fixture_name(const ::testing::TestParamInfo<Expectation>& info) {
  std::string name = info.param.file.substr(0, info.param.file.rfind('.'));
  for (char& c : name)
    if (!isalnum((unsigned char)c)) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, JpegFixture, ::testing::ValuesIn(load_expectations()),
                         fixture_name);

TEST(JpegFixtures, CoverEveryClass) {
  const std::vector<Expectation> rows = load_expectations();
  std::vector<std::string> names;
  for (const Expectation& e : rows) names.push_back(e.file);
  for (const char* want :
       {"jpeg_420.jpg", "jpeg_422.jpg", "jpeg_444.jpg", "jpeg_440.jpg", "jpeg_411.jpg",
        "jpeg_progressive.jpg", "jpeg_arith.jpg", "jpeg_arith_progressive.jpg",
        "jpeg_restart_rows.jpg", "jpeg_restart_blocks.jpg", "jpeg_restart_progressive.jpg",
        "jpeg_rgb.jpg", "jpeg_grey.jpg", "jpeg_grey_progressive.jpg", "jpeg_allgrey_ycbcr.jpg",
        "jpeg_ycck.jpg", "jpeg_cmyk_adobe.jpg", "jpeg_cmyk_no_adobe.jpg", "jpeg_1x1.jpg",
        "jpeg_7x3.jpg", "jpeg_17x9_420.jpg", "jpeg_exif6.jpg", "jpeg_truncated_60pct.jpg",
        "jpeg_truncated_progressive.jpg", "jpeg_extraneous.jpg", "jpeg_precision12.jpg",
        "jpeg_noninterleaved.jpg", "jpeg_noninterleaved_arith.jpg"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
}

/// The layout the decoder hands the sink: RGBX for colour, grey for grey, and the raw inks
/// (4 channels flagged cmyk, which the sink converts) for CMYK and YCCK.
TEST(JpegDecoder, RowLayout) {
  struct Case {
    const char* file;
    int channels;
    bool cmyk;
  };
  for (const Case& c :
       {Case{"jpeg_420.jpg", 4, false}, Case{"jpeg_rgb.jpg", 4, false},
        Case{"jpeg_arith.jpg", 4, false}, Case{"jpeg_allgrey_ycbcr.jpg", 4, false},
        Case{"jpeg_grey.jpg", 1, false}, Case{"jpeg_17x9_grey.jpg", 1, false},
        Case{"jpeg_ycck.jpg", 4, true}, Case{"jpeg_cmyk_adobe.jpg", 4, true},
        Case{"jpeg_cmyk_no_adobe.jpg", 4, true}}) {
    SCOPED_TRACE(c.file);
    CheckingSink sink;
    const DecodeOutcome out = decode(fixture(c.file), sink);
    ASSERT_TRUE(out.ok()) << out.error;
    EXPECT_TRUE(sink.problems.empty()) << sink.problems.front();
    EXPECT_EQ(sink.format().channels, c.channels);
    EXPECT_EQ(sink.format().cmyk, c.cmyk);
    EXPECT_TRUE(sink.format().detect_grey);
    EXPECT_EQ(sink.rows, out.height);
  }
}

TEST(JpegDecoder, ExifOrientationIsIgnored) {
  // Orientation 6 says "rotate to display"; the reference hashes the stored pixels.
  FullImageSink plain, exif;
  const DecodeOutcome a = decode(fixture("jpeg_420.jpg"), plain);
  const DecodeOutcome b = decode(fixture("jpeg_exif6.jpg"), exif);
  ASSERT_TRUE(a.ok() && b.ok()) << a.error << b.error;
  EXPECT_EQ(b.width, 97);
  EXPECT_EQ(b.height, 65);
  EXPECT_EQ(plain.pixels(), exif.pixels());
}

TEST(JpegDecoder, TruncatedIsPaddedWithAWarning) {
  FullImageSink sink;
  const DecodeOutcome out = decode(fixture("jpeg_truncated_60pct.jpg"), sink);
  ASSERT_TRUE(out.ok()) << out.error;
  ASSERT_FALSE(out.warnings.empty());
  EXPECT_TRUE(starts_with(out.warnings[0], "decode: ")) << out.warnings[0];
  EXPECT_TRUE(contains(out.warnings[0], "end of JPEG file") ||
              contains(out.warnings[0], "premature end"))
      << out.warnings[0];
  // The rows past the data are flat mid-grey (zero coefficients).
  const std::vector<uint8_t>& px = sink.pixels();
  const size_t last_row = px.size() - (size_t)97 * 3;
  EXPECT_TRUE(std::all_of(px.begin() + last_row, px.end(), [](uint8_t v) { return v == 128; }));
}

TEST(JpegDecoder, ExtraneousBytesWarn) {
  FullImageSink sink;
  const DecodeOutcome out = decode(fixture("jpeg_extraneous.jpg"), sink);
  ASSERT_TRUE(out.ok()) << out.error;
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_TRUE(starts_with(out.warnings[0], "decode: ")) << out.warnings[0];
  EXPECT_TRUE(contains(out.warnings[0], "extraneous bytes")) << out.warnings[0];
}

TEST(JpegDecoder, TwelveBitIsAnError) {
  // The 8-bit libjpeg-turbo that ImageMagick uses rejects 12-bit JPEGs from the header too.
  CheckingSink sink;
  const DecodeOutcome out = decode(fixture("jpeg_precision12.jpg"), sink);
  EXPECT_TRUE(starts_with(out.error, "decode: ")) << out.error;
  EXPECT_TRUE(contains(out.error, "precision 12")) << out.error;
  EXPECT_EQ(sink.begins, 0);
}

TEST(JpegDecoder, GoldenTruncatedSkimageFileFails) {
  // skimage's truncated.jpg: a bogus Huffman table; the reference aborts on it.
  const std::vector<uint8_t> data = read_file(kGoldenDir + "images/fail_skimage_truncated__orig.jpg");
  ASSERT_EQ(data.size(), 400u);
  CheckingSink sink;
  const DecodeOutcome out = decode(data, sink);
  EXPECT_TRUE(starts_with(out.error, "decode: ")) << out.error;
  EXPECT_EQ(out.format, ImageFormat::Jpeg);
  EXPECT_TRUE(sink.problems.empty());
}

// --- Golden photos against libjpeg-turbo's own RGB output ------------------------------------

struct LibjpegError {
  jpeg_error_mgr base;
  jmp_buf jump;
};

void libjpeg_error_exit(j_common_ptr cinfo) {
  longjmp(reinterpret_cast<LibjpegError*>(cinfo->err)->jump, 1);
}
void libjpeg_quiet(j_common_ptr, int) {}

/// libjpeg-turbo with its defaults and JCS_RGB / JCS_GRAYSCALE output. Returns false on an
/// error; sets `cmyk` (and decodes nothing) for CMYK/YCCK files.
bool libjpeg_decode(const std::vector<uint8_t>& data, std::vector<uint8_t>& pixels, int& width,
                    int& height, int& channels, bool& cmyk) {
  jpeg_decompress_struct cinfo;
  LibjpegError err;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = libjpeg_error_exit;
  err.base.emit_message = libjpeg_quiet;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data.data(), (unsigned long)data.size());
  jpeg_read_header(&cinfo, TRUE);
  cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  if (cmyk) {
    jpeg_destroy_decompress(&cinfo);
    return true;
  }
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  width = (int)cinfo.output_width;
  height = (int)cinfo.output_height;
  channels = cinfo.output_components;
  pixels.assign((size_t)width * height * channels, 0);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = pixels.data() + (size_t)cinfo.output_scanline * width * channels;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

struct GoldenJpeg {
  std::string file;
  std::string status;
};

std::vector<GoldenJpeg> golden_jpegs() {
  std::vector<GoldenJpeg> out;
  std::ifstream in(kGoldenDir + "manifest.tsv");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  {
    std::istringstream f(line);
    std::string h;
    while (std::getline(f, h, '\t')) header.push_back(h);
  }
  const size_t status_col =
      (size_t)(std::find(header.begin(), header.end(), "status") - header.begin());
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::istringstream f(line);
    std::string v;
    while (std::getline(f, v, '\t')) fields.push_back(v);
    if (fields.size() <= status_col) continue;
    const std::string& file = fields[0];
    const std::string& status = fields[status_col];
    if (file.size() > 4 && file.compare(file.size() - 4, 4, ".jpg") == 0 &&
        (status == "ok" || status == "ok_decoder_warning"))
      out.push_back({file, status});
  }
  return out;
}

TEST(JpegGolden, MatchesLibjpegRgbOutput) {
  const std::vector<GoldenJpeg> files = golden_jpegs();
  ASSERT_GE(files.size(), 300u) << "manifest.tsv missing or short";
  // Decoding ~360 photos twice takes a few seconds on one core: spread them over threads, and
  // report on the main thread.
  std::vector<std::string> problems(files.size());
  std::vector<int> skipped_cmyk(files.size(), 0);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < files.size();) {
      const GoldenJpeg& g = files[i];
      const std::vector<uint8_t> data = read_file(kGoldenDir + "images/" + g.file);
      if (data.empty()) {
        problems[i] = "missing";
        continue;
      }
      std::vector<uint8_t> want;
      int width = 0, height = 0, channels = 0;
      bool cmyk = false;
      if (!libjpeg_decode(data, want, width, height, channels, cmyk)) {
        problems[i] = "libjpeg failed";
        continue;
      }
      FullImageSink sink;
      const DecodeOutcome out = decode(data, sink);
      if (!out.ok()) {
        problems[i] = "our decode failed: " + out.error;
        continue;
      }
      const bool expect_warning = g.status == "ok_decoder_warning";
      if (out.warnings.empty() == expect_warning) {
        problems[i] = expect_warning ? "no warning" : "unexpected warning: " + out.warnings[0];
        continue;
      }
      if (cmyk) {  // converted by us, as ImageMagick does; checked against fixtures instead
        skipped_cmyk[i] = 1;
        if (sink.format().channels != 3 || sink.format().cmyk) problems[i] = "CMYK not RGB";
        continue;
      }
      const PixelFormat& f = sink.format();
      if (f.width != width || f.height != height || f.channels != channels) {
        problems[i] = "size/channels differ";
        continue;
      }
      const std::vector<uint8_t>& got = sink.pixels();
      size_t differ = 0;
      int max_diff = 0;
      for (size_t k = 0; k < got.size(); ++k) {
        const int d = std::abs((int)got[k] - (int)want[k]);
        differ += d != 0;
        max_diff = std::max(max_diff, d);
      }
      if (differ)
        problems[i] = std::to_string(differ) + " samples differ, max " + std::to_string(max_diff);
    }
  };
  const unsigned n = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < n; ++t) threads.emplace_back(work);
  for (std::thread& t : threads) t.join();
  int checked = 0, cmyk = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(problems[i], "") << files[i].file;
    cmyk += skipped_cmyk[i];
    checked += problems[i].empty() && !skipped_cmyk[i];
  }
  EXPECT_GT(cmyk, 0);
  EXPECT_GE(checked, 300);
  printf("[          ] %d golden JPEGs identical to libjpeg-turbo's RGB output (%d CMYK skipped)\n",
         checked, cmyk);
}

// --- Pixel limit from the header ---------------------------------------------------------------

void expect_limit_without_decoding(const std::vector<uint8_t>& data, const DecodeOptions& options) {
  CheckingSink sink;
  const DecodeOutcome out = decode(data, sink, options);
  EXPECT_TRUE(starts_with(out.error, "limit: ")) << out.error;
  EXPECT_EQ(out.format, ImageFormat::Jpeg);
  EXPECT_EQ(sink.begins, 0);
}

TEST(JpegLimit, HugeSofSmallLimit) {
  DecodeOptions options;
  options.max_pixels = 1'000'000;
  for (const char* file : {"jpeg_420.jpg", "jpeg_progressive.jpg", "jpeg_grey.jpg"}) {
    SCOPED_TRACE(file);
    expect_limit_without_decoding(with_sof_size(fixture(file), 65535, 65535), options);
    expect_limit_without_decoding(with_sof_size(fixture(file), 65500, 65500), options);
    expect_limit_without_decoding(with_sof_size(fixture(file), 2000, 501), options);
  }
}

TEST(JpegLimit, HugeSofDefaultLimit) {
  // 65535^2 and 65500^2 are both far above 200 M pixels; 20000 x 10001 just above.
  const DecodeOptions options;
  const std::vector<uint8_t> base = fixture("jpeg_420.jpg");
  expect_limit_without_decoding(with_sof_size(base, 65535, 65535), options);
  expect_limit_without_decoding(with_sof_size(base, 65500, 65500), options);
  expect_limit_without_decoding(with_sof_size(base, 20000, 10001), options);
  CheckingSink sink;
  const DecodeOutcome out = decode(with_sof_size(base, 65535, 65535), sink, options);
  EXPECT_TRUE(contains(out.error, "65535x65535")) << out.error;
  // A side above libjpeg's maximum (65500) in an image within the limit is libjpeg's error.
  CheckingSink narrow;
  const DecodeOutcome wide = decode(with_sof_size(base, 65535, 1), narrow, options);
  EXPECT_TRUE(starts_with(wide.error, "decode: ")) << wide.error;
  EXPECT_TRUE(contains(wide.error, "65500")) << wide.error;
  EXPECT_EQ(narrow.begins, 0);
}

TEST(JpegLimit, ExactBoundary) {
  const std::vector<uint8_t> data = fixture("jpeg_420.jpg");  // 97 x 65 = 6305 pixels
  DecodeOptions options;
  options.max_pixels = 6305;
  FullImageSink sink;
  EXPECT_TRUE(decode(data, sink, options).ok());
  options.max_pixels = 6304;
  expect_limit_without_decoding(data, options);
}

// --- Hostile input ---------------------------------------------------------------------------

const char* const kRobustnessFixtures[] = {
    "jpeg_420.jpg",        "jpeg_progressive.jpg", "jpeg_arith_progressive.jpg",
    "jpeg_restart_blocks.jpg", "jpeg_ycck.jpg",    "jpeg_grey_progressive.jpg",
    "jpeg_17x9_422.jpg",   "jpeg_411.jpg",         "jpeg_noninterleaved_arith.jpg"};

TEST(JpegRobustness, Truncations) {
  DecodeOptions options;
  options.max_pixels = 1u << 22;
  for (const char* file : kRobustnessFixtures) {
    SCOPED_TRACE(file);
    const std::vector<uint8_t> data = fixture(file);
    std::vector<size_t> lengths;
    for (size_t n = 0; n <= 700 && n < data.size(); ++n) lengths.push_back(n);
    for (size_t n = 700; n < data.size(); n += 1 + data.size() / 64) lengths.push_back(n);
    lengths.push_back(data.size() - 1);
    lengths.push_back(data.size() - 2);
    for (size_t n : lengths) {
      SCOPED_TRACE("truncated to " + std::to_string(n) + " of " + std::to_string(data.size()));
      expect_safe_decode(data.data(), n, options);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(JpegRobustness, RandomCorruption) {
  DecodeOptions options;
  options.max_pixels = 1u << 22;
  uint32_t base_seed = 20240611;
  if (const char* env = getenv("HM_TEST_SEED")) base_seed = (uint32_t)strtoul(env, nullptr, 10);
  printf("[          ] JpegRobustness.RandomCorruption base seed %u (set HM_TEST_SEED to change)\n",
         base_seed);
  for (const char* file : kRobustnessFixtures) {
    const std::vector<uint8_t> data = fixture(file);
    ASSERT_GT(data.size(), 100u);
    for (int trial = 0; trial < 150; ++trial) {
      const uint32_t seed = base_seed + (uint32_t)trial * 7919u + (uint32_t)data.size();
      SCOPED_TRACE(std::string(file) + " seed " + std::to_string(seed));
      std::mt19937 rng(seed);
      std::vector<uint8_t> bad = data;
      const int flips = 1 + (int)(rng() % 10);
      for (int i = 0; i < flips; ++i) {
        // Keep SOI so that the JPEG decoder sees the damage.
        const size_t at = 3 + rng() % (bad.size() - 3);
        switch (trial % 3) {
          case 0: bad[at] ^= (uint8_t)(1u << (rng() % 8)); break;
          case 1: bad[at] = (uint8_t)rng(); break;
          default: bad[at] = rng() % 2 ? 0xff : (uint8_t)(0xc0 + rng() % 0x20); break;  // markers
        }
      }
      expect_safe_decode(bad.data(), bad.size(), options);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

/// `jpeg` with its last scan (SOS to EOI) repeated so that the file holds `scans` scans.
std::vector<uint8_t> with_repeated_last_scan(const std::vector<uint8_t>& jpeg, size_t scans) {
  const std::vector<size_t> sos = sos_offsets(jpeg);
  EXPECT_FALSE(sos.empty());
  EXPECT_LE(sos.size(), scans);
  const size_t eoi = jpeg.size() - 2;
  EXPECT_TRUE(jpeg[eoi] == 0xff && jpeg[eoi + 1] == 0xd9);
  std::vector<uint8_t> out(jpeg.begin(), jpeg.begin() + eoi);
  for (size_t i = sos.size(); i < scans; ++i)
    out.insert(out.end(), jpeg.begin() + sos.back(), jpeg.begin() + eoi);
  out.insert(out.end(), {0xff, 0xd9});
  EXPECT_EQ(sos_offsets(out).size(), scans);
  return out;
}

TEST(JpegRobustness, TooManyProgressiveScans) {
  const std::vector<uint8_t> prog = fixture("jpeg_progressive.jpg");  // 10 scans
  // Up to 500 scans is allowed (the repeats only break the progression: warnings).
  {
    FullImageSink sink;
    const DecodeOutcome out = decode(with_repeated_last_scan(prog, 500), sink);
    EXPECT_TRUE(out.ok()) << out.error;
  }
  for (size_t scans : {501u, 600u, 20000u}) {
    SCOPED_TRACE(scans);
    const std::vector<uint8_t> hostile = with_repeated_last_scan(prog, scans);
    CheckingSink sink;
    const auto t0 = std::chrono::steady_clock::now();
    const DecodeOutcome out = decode(hostile, sink);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_TRUE(starts_with(out.error, "decode: ")) << out.error;
    EXPECT_TRUE(contains(out.error, "scans")) << out.error;
    EXPECT_EQ(sink.rows, 0);
    EXPECT_LT(seconds, 1.0);
  }
}

TEST(JpegRobustness, TooManySequentialScans) {
  // A sequential JPEG with one scan per component can repeat a scan; an arithmetic-coded scan
  // of a flat plane is a few bytes, and each repeat costs a full pass (1000 scans of a
  // 4096 x 4096 file, 18 KB, took 13 s before the scan limit covered sequential files).
  // A valid sequential file has at most one scan per component, which is the limit.
  for (const char* file : {"jpeg_noninterleaved.jpg", "jpeg_noninterleaved_arith.jpg"}) {
    SCOPED_TRACE(file);
    const std::vector<uint8_t> seq = fixture(file);  // 3 scans
    {
      FullImageSink sink;
      const DecodeOutcome out = decode(seq, sink);
      EXPECT_TRUE(out.ok()) << out.error;
    }
    for (size_t scans : {4u, 501u, 20000u}) {
      SCOPED_TRACE(scans);
      CheckingSink sink;
      const DecodeOutcome out = decode(with_repeated_last_scan(seq, scans), sink);
      EXPECT_TRUE(starts_with(out.error, "decode: ")) << out.error;
      EXPECT_TRUE(contains(out.error, "scans")) << out.error;
      EXPECT_EQ(sink.rows, 0);
    }
  }
}

}  // namespace
}  // namespace hm
