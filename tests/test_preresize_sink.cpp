// PreresizeSink keeps exactly what PDQ reads: hashing its PreresizedImage
// with the CPU PDQ gives PdqSink's result, bit for bit, so a batch hasher
// (the GPU) that receives the PreresizedImage hashes the same input the CPU
// path hashes. Checked over every golden image (both JPEG delivery paths) and
// seeded synthetic images of awkward sizes and layouts, through both of the
// PixelSink protocols (every row, or selected rows); the pixels and the grey
// flag are also checked against an oracle built from the whole decoded image.
#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.hpp"
#include "decode.hpp"
#include "decode_test_support.hpp"
#include "file_hasher.hpp"
#include "hash_record.hpp"
#include "pdq_cpu.hpp"
#include "pdq_math.hpp"
#include "pdq_sink.hpp"
#include "pixel_sink.hpp"
#include "preresize_sink.hpp"

namespace {

using hm::PreresizedImage;
using hm::pdq::PdqResult;
using hm::pdq::PixelLayout;

const std::string kGoldenImages = std::string(HM_TEST_DATA) + "/pdq-golden/images";

std::vector<std::string> golden_files() {
  std::vector<std::string> names;
  if (DIR* dir = opendir(kGoldenImages.c_str())) {
    while (const dirent* e = readdir(dir))
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string hex(const hm::pdq::Hash256& h) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : h) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

/// Every field of two results, with what differs in the message.
::testing::AssertionResult same_result(const PdqResult& want, const PdqResult& got) {
  if (want.below_min_size != got.below_min_size)
    return ::testing::AssertionFailure()
           << "below_min_size " << want.below_min_size << " vs " << got.below_min_size;
  if (want.quality != got.quality)
    return ::testing::AssertionFailure() << "quality " << want.quality << " vs " << got.quality;
  if (want.hash != got.hash)
    return ::testing::AssertionFailure() << "hash " << hex(want.hash) << " vs " << hex(got.hash);
  for (int t = 0; t < hm::pdq::kDihedralCount; ++t)
    if (want.dihedral[t] != got.dihedral[t])
      return ::testing::AssertionFailure()
             << "dihedral " << t << ": " << hex(want.dihedral[t]) << " vs " << hex(got.dihedral[t]);
  return ::testing::AssertionSuccess();
}

PdqResult hash_of(const PreresizedImage& image, bool dihedral = true) {
  PdqResult result;
  hm::pdq::PdqScratch scratch;
  hm::hash_preresized_cpu(image, dihedral, result, scratch);
  return result;
}

/// The oracle: the whole image (FullImageSink's grey or RGB bytes), sampled
/// by the spec's nearest-neighbour index, and the grey rule read off every pixel.
PreresizedImage oracle_of(const hm::FullImageSink& full) {
  const hm::PixelFormat& f = full.format();
  const bool resize = f.width > hm::pdq::kPreResize || f.height > hm::pdq::kPreResize;
  const int w = resize ? hm::pdq::kPreResize : f.width;
  const int h = resize ? hm::pdq::kPreResize : f.height;
  const std::vector<uint8_t>& px = full.pixels();
  bool all_grey = f.channels == 3 && f.detect_grey;
  for (size_t i = 0; all_grey && i < px.size(); i += 3) all_grey = px[i] == px[i + 1] && px[i] == px[i + 2];
  PreresizedImage out;
  out.width = w;
  out.height = h;
  out.grey = all_grey;
  const int channels = f.channels == 1 || all_grey ? 1 : 3;
  out.layout = channels == 1 ? PixelLayout::Grey : PixelLayout::Rgb;
  out.pixels.resize((size_t)w * h * channels);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int sy = resize ? hm::pdq::preresize_source_index(y, f.height) : y;
      const int sx = resize ? hm::pdq::preresize_source_index(x, f.width) : x;
      const uint8_t* p = px.data() + ((size_t)sy * f.width + sx) * f.channels;
      for (int c = 0; c < channels; ++c) out.pixels[((size_t)y * w + x) * channels + c] = p[c];
    }
  return out;
}

::testing::AssertionResult same_image(const PreresizedImage& want, const PreresizedImage& got) {
  if (want.width != got.width || want.height != got.height)
    return ::testing::AssertionFailure()
           << "size " << want.width << "x" << want.height << " vs " << got.width << "x" << got.height;
  if (want.layout != got.layout || want.grey != got.grey)
    return ::testing::AssertionFailure() << "layout/grey " << (int)want.layout << "/" << want.grey << " vs "
                                         << (int)got.layout << "/" << got.grey;
  if (want.pixels != got.pixels) return ::testing::AssertionFailure() << "pixels differ";
  return ::testing::AssertionSuccess();
}

/// One golden file through PdqSink, PreresizeSink and the oracle.
void check_golden(const std::string& name, const hm::DecodeOptions& options) {
  SCOPED_TRACE(name + (options.full_jpeg_decode ? " (full JPEG decode)" : ""));
  const std::vector<uint8_t> data = hm::test::read_file(kGoldenImages + "/" + name);  // one is empty
  hm::PdqSink pdq_sink;
  const hm::DecodeOutcome a = hm::decode_image(data.data(), data.size(), options, pdq_sink);
  hm::PreresizeSink sink;
  const hm::DecodeOutcome b = hm::decode_image(data.data(), data.size(), options, sink);
  ASSERT_EQ(a.ok(), b.ok());
  if (!a.ok()) return;  // the broken files of the set fail the same way
  ASSERT_TRUE(pdq_sink.complete());
  ASSERT_TRUE(sink.complete());
  PdqResult want;
  pdq_sink.hash(true, want);
  const PreresizedImage image = sink.take();
  ASSERT_LE(image.width, hm::pdq::kPreResize);
  ASSERT_LE(image.height, hm::pdq::kPreResize);
  EXPECT_TRUE(same_result(want, hash_of(image)));

  hm::FullImageSink full;
  ASSERT_TRUE(hm::decode_image(data.data(), data.size(), options, full).ok());
  EXPECT_TRUE(same_image(oracle_of(full), image));
}

TEST(PreresizeSinkGolden, EveryGoldenImageHashesAsPdqSink) {
  const std::vector<std::string> names = golden_files();
  ASSERT_EQ(names.size(), 401u) << "tests/data/pdq-golden/images missing or incomplete";
  for (const std::string& name : names) check_golden(name, hm::DecodeOptions{});
}

TEST(PreresizeSinkGolden, FullJpegDecodeHashesAsPdqSink) {
  hm::DecodeOptions options;
  options.full_jpeg_decode = true;  // every row through row(), not the selected rows
  for (const std::string& name : golden_files())
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".jpg") == 0) check_golden(name, options);
}

/// A synthetic decoded image: rows in the decoder's layout.
struct Synthetic {
  hm::PixelFormat format;
  std::vector<uint8_t> pixels;  ///< [height, width, bytes_per_pixel(layout)]
  std::string label;

  const uint8_t* row(int y) const {
    return pixels.data() + (size_t)y * format.width * hm::pdq::bytes_per_pixel(hm::layout_of(format));
  }
};

/// Gradients, blocks and noise (so the DCT has structure); `grey_pixels`
/// makes every pixel R = G = B (CMYK: C = M = Y, which converts to grey).
Synthetic make_image(std::mt19937& rng, int w, int h, PixelLayout layout, bool grey_pixels,
                     bool detect_grey) {
  Synthetic img;
  img.format.width = w;
  img.format.height = h;
  img.format.channels = hm::pdq::bytes_per_pixel(layout);
  img.format.cmyk = layout == PixelLayout::Cmyk;
  img.format.detect_grey = detect_grey;
  const int bpp = img.format.channels;
  img.pixels.resize((size_t)w * h * bpp);
  std::uniform_int_distribution<int> noise(0, 40);
  const int bx = 1 + (int)(rng() % 7), by = 1 + (int)(rng() % 7);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.pixels.data() + ((size_t)y * w + x) * bpp;
      const int base = (x * 255 / std::max(1, w - 1) + y * 97 / std::max(1, h - 1) +
                        (((x * bx / std::max(1, w)) + (y * by / std::max(1, h))) & 1) * 60) &
                       255;
      for (int c = 0; c < bpp; ++c) {
        const int v = grey_pixels && c < 3 ? base : (base + c * 50 + noise(rng)) & 255;
        p[c] = (uint8_t)v;
      }
      if (grey_pixels && layout == PixelLayout::Cmyk) p[3] = (uint8_t)(128 + (x + y) % 128);
    }
  img.label = std::to_string(w) + "x" + std::to_string(h) + " layout " + std::to_string((int)layout) +
              (grey_pixels ? " grey" : " colour") + (detect_grey ? "" : " no-detect");
  return img;
}

/// Feeds `img` to `sink` as a decoder does: every row, or (selected, when
/// the sink asks for it) the selected columns' RGB words of the selected
/// rows, with colour_seen() at the first colour row and end_selected().
void deliver(const Synthetic& img, hm::PixelSink& sink, bool selected) {
  sink.begin(img.format);
  const hm::PixelSelection* selection = sink.selection();
  const hm::pdq::PixelLayout layout = hm::layout_of(img.format);
  const int w = img.format.width;
  if (!selected || selection == nullptr || img.format.channels == 1) {
    for (int y = 0; y < img.format.height; ++y) sink.row(y, img.row(y));
    return;
  }
  std::vector<uint8_t> rgb((size_t)w * 3);
  std::vector<uint32_t> words(selection->cols.size());
  bool all_grey = true;
  size_t next = 0;
  for (int y = 0; y < img.format.height; ++y) {
    hm::pdq::row_to_rgb(img.row(y), layout, w, rgb.data());
    if (all_grey && !hm::pdq::row_is_grey_cpu(img.row(y), layout, w)) {
      all_grey = false;
      sink.colour_seen();
    }
    if (next < selection->rows.size() && selection->rows[next] == y) {
      for (size_t i = 0; i < words.size(); ++i) {
        const uint8_t* p = rgb.data() + 3 * (size_t)selection->cols[i];
        words[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
      }
      sink.selected_row(y, words.data());
      ++next;
    }
  }
  sink.end_selected(all_grey);
}

/// PdqSink and PreresizeSink over the same delivery; the PreresizedImage
/// also against the oracle.
void check_synthetic(const Synthetic& img, bool selected) {
  SCOPED_TRACE(img.label + (selected ? " selected" : " rows"));
  hm::PdqSink pdq_sink;
  deliver(img, pdq_sink, selected);
  ASSERT_TRUE(pdq_sink.complete());
  PdqResult want;
  pdq_sink.hash(true, want);
  hm::PreresizeSink sink;
  deliver(img, sink, selected);
  ASSERT_TRUE(sink.complete());
  const PreresizedImage image = sink.take();
  EXPECT_TRUE(same_result(want, hash_of(image)));
  // Without the dihedral hashes too: at 64 x 64 the plain hash skips the blur.
  hm::PdqSink plain_sink;
  deliver(img, plain_sink, selected);
  PdqResult want_plain;
  plain_sink.hash(false, want_plain);
  EXPECT_TRUE(same_result(want_plain, hash_of(image, false)));

  hm::FullImageSink full;
  deliver(img, full, false);
  EXPECT_TRUE(same_image(oracle_of(full), image));
}

TEST(PreresizeSinkSynthetic, AwkwardSizesAndLayoutsHashAsPdqSink) {
  const unsigned seed = 20240611;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int sides[] = {1, 2, 3, 4, 5, 63, 64, 65, 511, 512, 513};
  const PixelLayout layouts[] = {PixelLayout::Grey, PixelLayout::Rgb, PixelLayout::Rgbx, PixelLayout::Cmyk};
  for (int w : sides)
    for (int h : sides)
      for (PixelLayout layout : layouts)
        for (bool grey : {false, true}) {
          if (layout == PixelLayout::Grey && grey) continue;
          const Synthetic img = make_image(rng, w, h, layout, grey, true);
          check_synthetic(img, false);
          if (w > hm::pdq::kPreResize || h > hm::pdq::kPreResize) check_synthetic(img, true);
        }
}

TEST(PreresizeSinkSynthetic, StretchedAndLargeImagesHashAsPdqSink) {
  const unsigned seed = 7771;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const std::pair<int, int> sizes[] = {{4000, 3000}, {4000, 3}, {3, 4000}, {600, 2}, {700, 64}, {64, 1025}};
  const PixelLayout layouts[] = {PixelLayout::Grey, PixelLayout::Rgb, PixelLayout::Rgbx, PixelLayout::Cmyk};
  for (const auto& [w, h] : sizes)
    for (PixelLayout layout : layouts)
      for (bool grey : {false, true}) {
        if (layout == PixelLayout::Grey && grey) continue;
        if (w * h > 1000000 && grey && layout != PixelLayout::Rgb) continue;  // keep the big ones few
        const Synthetic img = make_image(rng, w, h, layout, grey, true);
        check_synthetic(img, false);
        check_synthetic(img, true);
      }
}

TEST(PreresizeSinkSynthetic, GreyRuleNeedsDetectGreyAndEveryPixel) {
  const unsigned seed = 99;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  // BMP's rule: grey pixels, but detect_grey off, so weighted luma and RGB bytes.
  Synthetic bmp = make_image(rng, 600, 300, PixelLayout::Rgb, true, false);
  check_synthetic(bmp, false);
  hm::PreresizeSink sink;
  deliver(bmp, sink, false);
  PreresizedImage image = sink.take();
  EXPECT_FALSE(image.grey);
  EXPECT_EQ(image.layout, PixelLayout::Rgb);

  // One colour pixel on a row and column the pre-resize never samples (600
  // -> 512 skips some) still makes the image colour.
  Synthetic img = make_image(rng, 600, 600, PixelLayout::Rgb, true, true);
  const hm::PixelSelection* selection = nullptr;
  hm::PreresizePlan plan;
  plan.begin(600, 600);
  selection = plan.selection();
  ASSERT_NE(selection, nullptr);
  int skipped = -1;
  for (int s = 0; s < 600 && skipped < 0; ++s)
    if (std::find(selection->rows.begin(), selection->rows.end(), s) == selection->rows.end()) skipped = s;
  ASSERT_GE(skipped, 0);
  img.pixels[((size_t)skipped * 600 + skipped) * 3] ^= 1;
  for (bool selected : {false, true}) {
    check_synthetic(img, selected);
    deliver(img, sink, selected);
    image = sink.take();
    EXPECT_FALSE(image.grey);
    EXPECT_EQ(image.layout, PixelLayout::Rgb);
  }
}

TEST(PreresizeSinkSynthetic, IncompleteUntilEveryRowArrives) {
  std::mt19937 rng(5);
  const Synthetic img = make_image(rng, 20, 10, PixelLayout::Rgb, false, true);
  hm::PreresizeSink sink;
  EXPECT_FALSE(sink.complete());
  sink.begin(img.format);
  for (int y = 0; y + 1 < img.format.height; ++y) sink.row(y, img.row(y));
  EXPECT_FALSE(sink.complete());
  sink.row(img.format.height - 1, img.row(img.format.height - 1));
  EXPECT_TRUE(sink.complete());
  sink.reset();
  EXPECT_FALSE(sink.complete());
}

// FileHasher's deferred mode leaves exactly the record the CPU path makes,
// minus the PDQ fields, plus the image; hashing that image fills them in
// identically (what the GPU hasher and the CPU fallback both do).
TEST(PreresizeSinkFileHasher, DeferredRecordsHashAsTheCpuPath) {
  for (bool dihedral : {false, true}) {
    hm::HashOptions options;
    options.dihedral = dihedral;
    hm::FileHasher direct(options);
    options.defer_pdq = true;
    hm::FileHasher deferring(options);
    hm::pdq::PdqScratch scratch;
    size_t deferred = 0;
    for (const std::string& name : golden_files()) {
      SCOPED_TRACE(name);
      const std::string path = kGoldenImages + "/" + name;
      const hm::HashRecord want = direct.hash_file(path);
      hm::HashRecord got = deferring.hash_file(path);
      EXPECT_EQ(want.error, got.error);
      EXPECT_EQ(want.format, got.format);
      EXPECT_EQ(want.width, got.width);
      EXPECT_EQ(want.height, got.height);
      EXPECT_EQ(want.warnings, got.warnings);
      EXPECT_EQ(want.sha256, got.sha256);
      EXPECT_FALSE(got.has_pdq);
      EXPECT_EQ(want.has_pdq, got.pdq_pending != nullptr);
      if (!got.pdq_pending) continue;
      ++deferred;
      PdqResult result;
      hm::hash_preresized_cpu(*got.pdq_pending, dihedral, result, scratch);
      hm::set_pdq_result(result, dihedral, got);
      EXPECT_EQ(hex(want.pdq), hex(got.pdq));
      EXPECT_EQ(want.quality, got.quality);
      EXPECT_EQ(want.pdq_below_min_size, got.pdq_below_min_size);
      EXPECT_EQ(want.has_dihedral, got.has_dihedral);
      EXPECT_TRUE(want.dihedral == got.dihedral);
    }
    EXPECT_GT(deferred, 390u);
  }
}

TEST(PreresizeSinkFileHasher, GpuHasherNeedsCudaAndADevice) {
  if (hm::cuda_compiled() && !hm::gpu_devices().empty()) GTEST_SKIP() << "a CUDA device is present";
  try {
    hm::GpuPdqHasher::create();
    ADD_FAILURE() << "created a GPU hasher without CUDA or a device";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.find("CUDA") != std::string::npos) << what;
  }
}

}  // namespace
