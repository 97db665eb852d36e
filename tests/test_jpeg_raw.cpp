// The JPEG raw path (libjpeg's planes, upsampled and converted only at the
// selected pixels) against libjpeg's own full decode, pixel for pixel.
#include <gtest/gtest.h>

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "decode.hpp"
#include "decode_test_support.hpp"
#include "jpeg_raw.hpp"
#include "pixel_sink.hpp"

namespace {

using hm::test::read_file;

/// Records what the decoder delivers for the selection in selection_.
class RecordingSink : public hm::PixelSink {
 public:
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

  hm::PixelSelection selection_;
  std::vector<int> ys;
  std::vector<std::vector<uint32_t>> rows;
  int full_rows = 0;
  int colour_calls = 0;
  int end_calls = 0;
  bool all_grey = false;
};

/// Every delivered pixel against the full decode, and the grey flag.
void expect_selected_pixels(const RecordingSink& sink, const std::vector<uint8_t>& full, int width,
                            bool grey) {
  EXPECT_EQ(sink.ys, sink.selection_.rows);
  EXPECT_EQ(sink.end_calls, 1);
  EXPECT_EQ(sink.all_grey, grey);
  EXPECT_EQ(sink.colour_calls, grey ? 0 : 1);
  int mismatches = 0;
  for (size_t r = 0; r < sink.ys.size() && r < sink.rows.size(); ++r)
    for (size_t j = 0; j < sink.selection_.cols.size(); ++j) {
      const uint8_t* p = full.data() + ((size_t)sink.ys[r] * width + sink.selection_.cols[j]) * 3;
      const uint32_t want = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
      if (sink.rows[r][j] != want && ++mismatches <= 3)
        ADD_FAILURE() << "pixel (" << sink.selection_.cols[j] << ", " << sink.ys[r] << ") raw "
                      << std::hex << sink.rows[r][j] << " full " << want;
    }
  EXPECT_EQ(mismatches, 0);
}

/// Asks for some columns of some rows, drawn when the image begins.
class SelectiveSink final : public RecordingSink {
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
      // instead of taking the raw path unless the columns are the even ones.
      for (int y = 0; y < 512; ++y) {
        const int row = (int)((int64_t)y * format.height / 512);
        if (selection_.rows.empty() || selection_.rows.back() != row) selection_.rows.push_back(row);
      }
      return;
    }
    for (int y = 0; y < format.height; ++y)
      if (y == 0 || y == format.height - 1 || (y % 4 == 1 && rng_() % 2)) selection_.rows.push_back(y);
  }

  hm::PixelFormat format_;

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
  bool grey = true;
  const auto& px = full.pixels();
  for (size_t i = 0; i < px.size(); i += 3) grey &= px[i] == px[i + 1] && px[i + 1] == px[i + 2];
  expect_selected_pixels(sink, px, w, grey);
  return true;
}

TEST(JpegRawPath, FixturesOfEverySamplingMatchTheFullDecode) {
  const std::string dir = std::string(HM_TEST_DATA) + "/decode-jpeg/";
  // 4:2:0 (plain, progressive, arithmetic, restarts, non-interleaved,
  // truncated), 4:2:2, 4:4:4 and 4:4:0 take the raw path.
  const std::vector<std::string> raw = {
      "jpeg_420.jpg",          "jpeg_422.jpg",           "jpeg_444.jpg",
      "jpeg_17x9_420.jpg",     "jpeg_17x9_422.jpg",      "jpeg_17x9_progressive.jpg",
      "jpeg_progressive.jpg",  "jpeg_arith.jpg",         "jpeg_arith_progressive.jpg",
      "jpeg_restart_rows.jpg", "jpeg_restart_blocks.jpg", "jpeg_restart_progressive.jpg",
      "jpeg_noninterleaved.jpg", "jpeg_truncated_60pct.jpg", "jpeg_truncated_progressive.jpg",
      "jpeg_allgrey_ycbcr.jpg", "jpeg_exif6.jpg",        "jpeg_extraneous.jpg",
      "jpeg_440.jpg"};
  for (const auto& name : raw)
    for (uint32_t seed = 1; seed <= 3; ++seed)
      EXPECT_TRUE(check_raw_path(dir + name, seed)) << name << " did not take the raw path";
  // Other colour layouts are read as scanlines, skipping unselected rows:
  // the same selected delivery, checked the same way.
  const std::vector<std::string> skipping = {"jpeg_411.jpg", "jpeg_rgb.jpg",
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

// --- Generated images: 4:2:2 and 4:2:0 selected at the even columns, 4:4:0 ---

struct JpegJump {
  jpeg_error_mgr base;
  jmp_buf jump;
};
void jump_on_error(j_common_ptr cinfo) {
  longjmp(reinterpret_cast<JpegJump*>(cinfo->err)->jump, 1);
}

struct Variant {
  int width, height;
  int v_samp;  ///< luma sampling h_samp x v_samp, chroma 1 x 1
  bool progressive;
  bool restarts;
  bool grey;
  int h_samp = 2;
  int grey_rows = 0;  ///< the top rows are grey: colour appears below them
  std::string name() const {
    const char* sampling = h_samp == 1 ? (v_samp == 2 ? " 440" : " 444")
                                       : (v_samp == 2 ? " 420" : " 422");
    return std::to_string(width) + "x" + std::to_string(height) + sampling +
           (progressive ? " progressive" : "") + (restarts ? " restarts" : "") +
           (grey ? " grey" : "") +
           (grey_rows ? " grey above row " + std::to_string(grey_rows) : "");
  }
};

/// Colour gradients with noise and saturated patches (which clamp in the
/// conversion back to RGB), encoded by libjpeg.
std::vector<uint8_t> encode_variant(const Variant& v) {
  std::mt19937 rng(v.width * 7 + v.height);
  std::vector<uint8_t> rgb((size_t)v.width * v.height * 3);
  for (int y = 0; y < v.height; ++y)
    for (int x = 0; x < v.width; ++x) {
      uint8_t* p = rgb.data() + ((size_t)y * v.width + x) * 3;
      const int noise = (int)(rng() % 64) - 32;
      const bool patch = ((x / 37) + (y / 29)) % 5 == 0;
      p[0] = (uint8_t)std::clamp(patch ? 255 : x * 255 / v.width + noise, 0, 255);
      p[1] = (uint8_t)std::clamp(patch ? 0 : y * 255 / v.height - noise, 0, 255);
      p[2] = (uint8_t)std::clamp(patch ? 40 : (x + y) % 256 + noise / 2, 0, 255);
      if (v.grey || y < v.grey_rows) p[1] = p[2] = p[0];
    }
  jpeg_compress_struct cinfo;
  JpegJump err;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = jump_on_error;
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    free(buf);
    ADD_FAILURE() << "encode failed";
    return {};
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buf, &size);
  cinfo.image_width = (JDIMENSION)v.width;
  cinfo.image_height = (JDIMENSION)v.height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 90, TRUE);
  cinfo.comp_info[0].h_samp_factor = v.h_samp;
  cinfo.comp_info[0].v_samp_factor = v.v_samp;
  if (v.restarts) cinfo.restart_in_rows = 1;
  if (v.progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = rgb.data() + (size_t)cinfo.next_scanline * v.width * 3;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> out(buf, buf + size);
  free(buf);
  return out;
}

/// libjpeg's default RGB decode, 3 bytes per pixel.
std::vector<uint8_t> full_decode(const std::vector<uint8_t>& bytes) {
  jpeg_decompress_struct cinfo;
  JpegJump err;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = jump_on_error;
  std::vector<uint8_t> rgb;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    ADD_FAILURE() << "full decode failed";
    return {};
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), (unsigned long)bytes.size());
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const size_t stride = (size_t)cinfo.output_width * 3;
  rgb.resize(stride * cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = rgb.data() + cinfo.output_scanline * stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return rgb;
}

/// Records the selected rows of a fixed selection.
class FixedSink final : public RecordingSink {
 public:
  explicit FixedSink(hm::PixelSelection selection) { selection_ = std::move(selection); }
  void begin(const hm::PixelFormat&) override {}
};

/// The raw path with the given kernel, straight from jpeg_raw.hpp.
void raw_decode(const std::vector<uint8_t>& bytes, hm::JpegRawKernel kernel, FixedSink& sink,
                hm::SparseIdct::Counts* idct_counts = nullptr) {
  jpeg_decompress_struct cinfo;
  JpegJump err;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = jump_on_error;
  hm::JpegRawBuffers buffers;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    ADD_FAILURE() << "raw decode failed";
    return;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), (unsigned long)bytes.size());
  jpeg_read_header(&cinfo, TRUE);
  EXPECT_TRUE(hm::jpeg_raw_eligible(cinfo));
  hm::read_jpeg_raw_selected(cinfo, sink.selection_, sink, buffers, kernel);
  if (idct_counts) *idct_counts = buffers.idct.counts();
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
}

/// The pre-resize's columns (the even ones at these widths) and rows.
hm::PixelSelection preresize_selection(int width, int height) {
  hm::PixelSelection s;
  for (int x = 0; x < 512; ++x) s.cols.push_back((int)((int64_t)x * width / 512));
  for (int y = 0; y < 512; ++y) {
    const int row = (int)((int64_t)y * height / 512);
    if (s.rows.empty() || s.rows.back() != row) s.rows.push_back(row);
  }
  return s;
}

/// The first n even columns of every third row (and the last row).
hm::PixelSelection even_selection(int n, int height) {
  hm::PixelSelection s;
  for (int j = 0; j < n; ++j) s.cols.push_back(2 * j);
  for (int y = 0; y < height; ++y)
    if (y % 3 == 0 || y == height - 1) s.rows.push_back(y);
  return s;
}

std::vector<Variant> even_column_variants() {
  std::vector<Variant> out;
  for (int width : {1024, 1025})
    for (int v_samp : {2, 1})
      for (int height : {777, 1100})
        for (int kind = 0; kind < 3; ++kind)  // plain, progressive, restart markers
          out.push_back({width, height, v_samp, kind == 1, kind == 2, false});
  out.push_back({1025, 600, 2, false, false, true});
  out.push_back({1024, 1030, 1, true, false, true});
  return out;
}

class JpegRawEvenKernel : public ::testing::TestWithParam<hm::JpegRawKernel> {};

TEST_P(JpegRawEvenKernel, MatchTheFullDecode) {
  if (!hm::jpeg_raw_kernel_supported(GetParam())) GTEST_SKIP() << "kernel not supported here";
  for (const Variant& v : even_column_variants()) {
    SCOPED_TRACE(v.name());
    const std::vector<uint8_t> bytes = encode_variant(v);
    const std::vector<uint8_t> full = full_decode(bytes);
    ASSERT_EQ(full.size(), (size_t)v.width * v.height * 3);
    // The pre-resize; every even column (the last reads chroma's last column
    // at 1025); and short rows, below and at one vector block past column 0.
    for (int n : {0, (v.width + 1) / 2, 17, 16, 5}) {
      SCOPED_TRACE("n " + std::to_string(n));
      FixedSink sink(n ? even_selection(n, v.height) : preresize_selection(v.width, v.height));
      raw_decode(bytes, GetParam(), sink);
      expect_selected_pixels(sink, full, v.width, v.grey);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, JpegRawEvenKernel,
                         ::testing::Values(hm::JpegRawKernel::Scalar, hm::JpegRawKernel::Avx2),
                         [](const ::testing::TestParamInfo<hm::JpegRawKernel>& info) {
                           return std::string(hm::jpeg_raw_kernel_name(info.param));
                         });

TEST(JpegRawPath, Generated440MatchesTheFullDecode) {
  // 4:4:0 filters chroma vertically only; the edges repeat the first and
  // last chroma rows, at heights odd and even, one chroma row and many.
  for (const Variant& v :
       {Variant{333, 1100, 2, false, false, false, 1}, Variant{64, 2, 2, false, false, false, 1},
        Variant{1, 41, 2, true, false, false, 1}, Variant{517, 1030, 2, true, true, false, 1},
        Variant{200, 301, 2, false, true, true, 1}}) {
    SCOPED_TRACE(v.name());
    const std::vector<uint8_t> bytes = encode_variant(v);
    const std::vector<uint8_t> full = full_decode(bytes);
    ASSERT_EQ(full.size(), (size_t)v.width * v.height * 3);
    std::mt19937 rng(v.width + v.height);
    hm::PixelSelection selection;
    for (int x = 0; x < v.width; ++x)
      if (x == 0 || x == v.width - 1 || rng() % 3 == 0) selection.cols.push_back(x);
    for (int y = 0; y < v.height; ++y)
      if (y == 0 || y == v.height - 1 || rng() % 4 == 0) selection.rows.push_back(y);
    FixedSink sink(selection);
    raw_decode(bytes, hm::jpeg_raw_kernel_best(), sink);
    expect_selected_pixels(sink, full, v.width, v.grey);
  }
}

class JpegRawIdctSkip : public ::testing::TestWithParam<hm::JpegRawKernel> {};

TEST_P(JpegRawIdctSkip, SkipsOnlyBlocksNothingReads) {
  if (!hm::jpeg_raw_kernel_supported(GetParam())) GTEST_SKIP() << "kernel not supported here";
  // Wide images read a few columns and rows: whole blocks between
  // them are never transformed once colour is seen (the grey check reads
  // every pixel until then), in every sampling and scan layout. Each read
  // pixel must still be libjpeg's.
  std::vector<Variant> variants;
  for (const auto& [h, v] : {std::pair{1, 1}, {2, 2}, {2, 1}, {1, 2}})
    for (int kind = 0; kind < 3; ++kind)  // plain, progressive, restart markers
      variants.push_back({4700, 200, v, kind == 1, kind == 2, false, h});
  variants.push_back({4700, 200, 2, false, false, false, 2, 70});  // colour from row 70
  variants.push_back({4700, 200, 1, true, false, false, 1, 199});  // colour on the last row only
  variants.push_back({4700, 200, 2, false, false, true, 2});       // grey throughout
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.name());
    const std::vector<uint8_t> bytes = encode_variant(v);
    const std::vector<uint8_t> full = full_decode(bytes);
    ASSERT_EQ(full.size(), (size_t)v.width * v.height * 3);
    // Per 96 pixels two, whose chroma filter reaches into the chroma blocks
    // before and after their own (16: chroma 8 and 7; 31: chroma 15 and 16),
    // so a neighbour forgotten is a block skipped that was read.
    hm::PixelSelection selection;
    for (int x = 0; x < v.width; ++x)
      if (x % 96 == 16 || x % 96 == 31 || x == 0 || x == v.width - 1) selection.cols.push_back(x);
    for (int y = 0; y < v.height; ++y)
      if (y % 96 == 16 || y % 96 == 31 || y == 0 || y == v.height - 1) selection.rows.push_back(y);
    FixedSink sink(selection);
    hm::SparseIdct::Counts counts;
    raw_decode(bytes, GetParam(), sink, &counts);
    expect_selected_pixels(sink, full, v.width, v.grey);
    EXPECT_GT(counts.whole, 0);
    if (v.grey || v.grey_rows == 199) {
      EXPECT_EQ(counts.skipped + counts.partial, 0) << "spared work before colour was seen";
    } else {
      EXPECT_GT(counts.skipped, counts.whole / 4);
      // Rows are transformed on their own only by the AVX2 kernel.
      if (GetParam() == hm::JpegRawKernel::Avx2) {
        EXPECT_GT(counts.partial, 0);
      } else {
        EXPECT_EQ(counts.partial, 0);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, JpegRawIdctSkip,
                         ::testing::Values(hm::JpegRawKernel::Scalar, hm::JpegRawKernel::Avx2),
                         [](const ::testing::TestParamInfo<hm::JpegRawKernel>& info) {
                           return std::string(hm::jpeg_raw_kernel_name(info.param));
                         });

TEST(JpegRawIdctHook, HooksOnlyWhereItPays) {
  // The pre-resize of a 1024 x 1100 image reads four rows of most blocks and
  // every block column: nothing to spare, so libjpeg is left alone. At
  // 4700 x 3300 a luma block is read on one or two rows, or not at all.
  for (const Variant& v : {Variant{1024, 1100, 2, false, false, false},
                           Variant{4700, 3300, 2, false, false, false}}) {
    SCOPED_TRACE(v.name());
    const std::vector<uint8_t> bytes = encode_variant(v);
    FixedSink sink(preresize_selection(v.width, v.height));
    hm::SparseIdct::Counts counts;
    raw_decode(bytes, hm::jpeg_raw_kernel_best(), sink, &counts);
    expect_selected_pixels(sink, full_decode(bytes), v.width, false);
    const long spared = counts.skipped + counts.partial;
    if (v.width == 1024) {
      EXPECT_EQ(spared + counts.whole, 0);
    } else {
      EXPECT_GT(spared, counts.whole);
    }
  }
}

TEST(JpegRawEvenColumns, DecoderTakesTheRawPathWhereItPays) {
  // With the AVX2 kernel the pre-resize of a 1024- or 1025-wide image takes
  // the raw path at any height; without it only where half the rows are skipped.
  const bool avx2 = hm::jpeg_raw_kernel_best() == hm::JpegRawKernel::Avx2;
  for (const Variant& v : {Variant{1025, 777, 2, false, false, false},
                           Variant{1024, 1100, 1, true, false, false},
                           Variant{1000, 777, 2, false, false, false}}) {
    SCOPED_TRACE(v.name());
    const std::vector<uint8_t> bytes = encode_variant(v);
    FixedSink sink(preresize_selection(v.width, v.height));
    const hm::DecodeOutcome out = hm::decode_image(bytes.data(), bytes.size(), {}, sink);
    ASSERT_TRUE(out.ok()) << out.error;
    const bool raw = (avx2 && v.width >= 1024) || v.height >= 1024;
    // Both paths deliver the same selection (the choice shows in the time
    // only): check the pixels, and the choice decode_jpeg asks for.
    expect_selected_pixels(sink, full_decode(bytes), v.width, false);
    jpeg_decompress_struct cinfo;
    jpeg_error_mgr err;
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, bytes.data(), (unsigned long)bytes.size());
    jpeg_read_header(&cinfo, TRUE);
    EXPECT_EQ(hm::jpeg_raw_preferred(cinfo, sink.selection_), raw);
    jpeg_destroy_decompress(&cinfo);
  }
}

TEST(JpegRawEvenColumns, UnsupportedKernelThrows) {
  if (hm::jpeg_raw_kernel_supported(hm::JpegRawKernel::Avx2)) GTEST_SKIP() << "AVX2 is supported";
  const std::vector<uint8_t> bytes = encode_variant({1024, 64, 2, false, false, false});
  FixedSink sink(preresize_selection(1024, 64));
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), (unsigned long)bytes.size());
  jpeg_read_header(&cinfo, TRUE);
  hm::JpegRawBuffers buffers;
  EXPECT_THROW(hm::read_jpeg_raw_selected(cinfo, sink.selection_, sink, buffers,
                                          hm::JpegRawKernel::Avx2),
               std::invalid_argument);
  jpeg_destroy_decompress(&cinfo);
}

}  // namespace
