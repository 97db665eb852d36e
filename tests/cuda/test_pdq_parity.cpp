// PDQ on the GPU against the CPU, bit for bit: hashes, quality, the 8
// dihedral hashes and the below-minimum flag, over seeded random images of
// awkward sizes and layouts, mixed batches of 1 to 1000, the grey rule, and
// the golden images. The CPU side is the engine's own path (PdqSink: the
// pre-resize, the grey rule, pdq_hash_cpu) and, for the synthetic images,
// pdq_hash_reference too. Without a CUDA device every test is skipped.
#include <gtest/gtest.h>

#include <stdio.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "decode.hpp"
#include "pdq_cpu.hpp"
#include "pdq_gpu.hpp"
#include "pdq_sink.hpp"
#include "pixel_sink.hpp"

namespace {

using hm::PdqGpuInput;
using hm::pdq::PdqResult;
using hm::pdq::PixelLayout;

#define HM_REQUIRE_CUDA_DEVICE()                                                             \
  do {                                                                                       \
    if (!hm::cuda_device_available())                                                        \
      GTEST_SKIP() << "no CUDA device: the CUDA runtime found none, so GPU parity is untested"; \
  } while (0)

/// A decoded image the test owns.
struct TestImage {
  int width = 0;
  int height = 0;
  PixelLayout layout = PixelLayout::Rgb;
  std::vector<uint8_t> pixels;
  bool grey = false;         ///< passed as PdqGpuInput::grey (only for images that are grey)
  bool detect_grey = true;   ///< passed as detect_grey, and to the CPU's PixelFormat
  std::string label;

  PdqGpuInput input() const {
    PdqGpuInput in;
    in.pixels = pixels.data();
    in.width = width;
    in.height = height;
    in.layout = layout;
    in.grey = grey;
    in.detect_grey = detect_grey;
    return in;
  }
};

const char* layout_name(PixelLayout l) {
  switch (l) {
    case PixelLayout::Grey: return "grey";
    case PixelLayout::Rgb: return "rgb";
    case PixelLayout::Rgbx: return "rgbx";
    case PixelLayout::Cmyk: return "cmyk";
  }
  return "?";
}

/// Smooth gradients, a few blocks and noise, so the DCT has structure as a
/// photo's does; `grey_pixels` makes every pixel R = G = B (and, for CMYK,
/// C = M = Y, which converts to R = G = B).
TestImage random_image(std::mt19937& rng, int w, int h, PixelLayout layout, bool grey_pixels) {
  TestImage img;
  img.width = w;
  img.height = h;
  img.layout = layout;
  const int bpp = hm::pdq::bytes_per_pixel(layout);
  img.pixels.resize((size_t)w * h * bpp);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> noise(-24, 24);
  const int base[3] = {byte(rng), byte(rng), byte(rng)};
  const int bx = std::uniform_int_distribution<int>(0, w - 1)(rng);
  const int by = std::uniform_int_distribution<int>(0, h - 1)(rng);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.pixels.data() + ((size_t)y * w + x) * bpp;
      const int shade = 120 * x / w + 80 * y / h + ((x > bx) != (y > by) ? 50 : 0);
      for (int c = 0; c < bpp; ++c) {
        const int v = (grey_pixels && c < 3 ? base[0] : base[c % 3]) + shade + noise(rng);
        p[c] = (uint8_t)std::min(255, std::max(0, v));
      }
      if (grey_pixels && bpp >= 3) p[1] = p[2] = p[0];
    }
  img.label = std::to_string(w) + "x" + std::to_string(h) + " " + layout_name(layout) +
              (grey_pixels ? " grey" : "");
  return img;
}

/// A featureless image: every DCT coefficient is rounding noise, the median has ties.
TestImage solid_image(int w, int h, PixelLayout layout, uint8_t value) {
  TestImage img;
  img.width = w;
  img.height = h;
  img.layout = layout;
  img.pixels.assign((size_t)w * h * hm::pdq::bytes_per_pixel(layout), value);
  img.label = std::to_string(w) + "x" + std::to_string(h) + " solid " + layout_name(layout);
  return img;
}

/// The engine's CPU answer: PdqSink fed the rows, as decoders feed it.
PdqResult cpu_expected(const TestImage& img, bool dihedral) {
  hm::PixelFormat format;
  format.width = img.width;
  format.height = img.height;
  format.channels = hm::pdq::bytes_per_pixel(img.layout);
  format.cmyk = img.layout == PixelLayout::Cmyk;
  // A caller-declared grey image really is grey, so detection agrees with it.
  format.detect_grey = img.detect_grey || img.grey;
  hm::PdqSink sink;
  sink.begin(format);
  const size_t stride = (size_t)img.width * format.channels;
  for (int y = 0; y < img.height; ++y) sink.row(y, img.pixels.data() + y * stride);
  PdqResult r;
  sink.hash(dihedral, r);
  return r;
}

/// The scalar oracle: pre-resize and grey rule written out here, then
/// pdq_hash_reference.
PdqResult reference_expected(const TestImage& img, bool dihedral) {
  const bool resize = img.width > hm::pdq::kPreResize || img.height > hm::pdq::kPreResize;
  const int w = resize ? hm::pdq::kPreResize : img.width;
  const int h = resize ? hm::pdq::kPreResize : img.height;
  const int channels = img.layout == PixelLayout::Grey ? 1 : 3;
  const int bpp = hm::pdq::bytes_per_pixel(img.layout);
  // Whole source as 1 or 3 channels (CMYK converted, the 4th byte dropped).
  std::vector<uint8_t> src((size_t)img.width * img.height * channels);
  bool all_grey = true;
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* row = img.pixels.data() + (size_t)y * img.width * bpp;
    uint8_t* out = src.data() + (size_t)y * img.width * channels;
    if (channels == 1) {
      std::copy(row, row + img.width, out);
      continue;
    }
    hm::pdq::row_to_rgb(row, img.layout, img.width, out);
    for (int x = 0; x < img.width; ++x)
      all_grey = all_grey && out[3 * x] == out[3 * x + 1] && out[3 * x + 1] == out[3 * x + 2];
  }
  std::vector<uint8_t> px((size_t)w * h * channels);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int sy = resize ? hm::pdq::preresize_source_index(y, img.height) : y;
      const int sx = resize ? hm::pdq::preresize_source_index(x, img.width) : x;
      for (int c = 0; c < channels; ++c)
        px[((size_t)y * w + x) * channels + c] = src[((size_t)sy * img.width + sx) * channels + c];
    }
  const bool grey = channels == 3 && all_grey && (img.detect_grey || img.grey);
  hm::pdq::PdqImage image{px.data(), w, h, channels, grey};
  PdqResult r;
  hm::pdq::pdq_hash_reference(image, dihedral, r);
  return r;
}

std::string hex(const hm::pdq::Hash256& h) {
  std::string s;
  char b[3];
  for (uint8_t v : h) {
    snprintf(b, sizeof b, "%02x", v);
    s += b;
  }
  return s;
}

/// Every field, bit for bit.
void expect_same(const PdqResult& gpu, const PdqResult& cpu, bool dihedral, const std::string& what) {
  EXPECT_EQ(hex(gpu.hash), hex(cpu.hash)) << what << ": hash";
  EXPECT_EQ(gpu.quality, cpu.quality) << what << ": quality";
  EXPECT_EQ(gpu.below_min_size, cpu.below_min_size) << what << ": below_min_size";
  if (!dihedral) return;
  for (int t = 0; t < hm::pdq::kDihedralCount; ++t)
    EXPECT_EQ(hex(gpu.dihedral[t]), hex(cpu.dihedral[t])) << what << ": dihedral " << t;
}

std::vector<PdqGpuInput> inputs_of(const std::vector<TestImage>& images) {
  std::vector<PdqGpuInput> in;
  for (const TestImage& img : images) in.push_back(img.input());
  return in;
}

/// Hashes `images` on the GPU (one batch) and compares every one with the
/// CPU path, and with the scalar reference when `reference` is set.
void check_batch(hm::PdqGpuBatcher& gpu, const std::vector<TestImage>& images, bool dihedral,
                 bool reference, uint32_t seed) {
  std::vector<PdqResult> got;
  gpu.hash_batch(inputs_of(images), dihedral, got);
  ASSERT_EQ(got.size(), images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string what = "image " + std::to_string(i) + " (" + images[i].label +
                             "), seed " + std::to_string(seed);
    expect_same(got[i], cpu_expected(images[i], dihedral), dihedral, what + " vs PdqSink");
    if (reference) expect_same(got[i], reference_expected(images[i], dihedral), dihedral, what + " vs reference");
  }
}

class PdqCudaParity : public ::testing::Test {
 protected:
  void SetUp() override { HM_REQUIRE_CUDA_DEVICE(); }
  /// Freed before the CUDA runtime shuts down at exit.
  static void TearDownTestSuite() { shared_.reset(); }
  /// One batcher for the suite (a batcher allocates its device scratch up
  /// front); made by the first test that runs, so never without a device.
  static hm::PdqGpuBatcher& batcher() {
    if (!shared_) shared_ = std::make_unique<hm::PdqGpuBatcher>();
    return *shared_;
  }
  static std::unique_ptr<hm::PdqGpuBatcher> shared_;
};
std::unique_ptr<hm::PdqGpuBatcher> PdqCudaParity::shared_;

const PixelLayout kLayouts[] = {PixelLayout::Grey, PixelLayout::Rgb, PixelLayout::Rgbx,
                                PixelLayout::Cmyk};

TEST_F(PdqCudaParity, AwkwardSizesEveryLayoutInOneBatch) {
  const uint32_t seed = 20240611;
  std::mt19937 rng(seed);
  const int sizes[][2] = {{1, 1},     {2, 3},     {3, 2},     {4, 4},     {4, 9},     {9, 4},
                          {5, 5},     {5, 64},    {63, 63},   {64, 64},   {65, 65},   {64, 65},
                          {65, 64},   {127, 129}, {128, 128}, {129, 257}, {511, 511}, {512, 512},
                          {513, 513}, {512, 513}, {513, 200}, {2000, 300}, {300, 2000}};
  std::vector<TestImage> images;
  for (const auto& s : sizes)
    for (PixelLayout l : kLayouts) images.push_back(random_image(rng, s[0], s[1], l, false));
  images.push_back(random_image(rng, 4000, 3000, PixelLayout::Rgb, false));
  images.push_back(random_image(rng, 4000, 3000, PixelLayout::Grey, false));
  images.push_back(solid_image(64, 64, PixelLayout::Rgb, 77));
  images.push_back(solid_image(300, 200, PixelLayout::Grey, 200));
  images.push_back(solid_image(700, 600, PixelLayout::Rgbx, 13));
  check_batch(batcher(), images, true, true, seed);
  check_batch(batcher(), images, false, false, seed);
}

TEST_F(PdqCudaParity, EverySideFrom1To70) {
  const uint32_t seed = 77;
  std::mt19937 rng(seed);
  std::vector<TestImage> images;
  for (int side = 1; side <= 70; ++side) {
    images.push_back(random_image(rng, side, 71 - side, PixelLayout::Rgb, false));
    images.push_back(random_image(rng, side, side, PixelLayout::Grey, false));
  }
  check_batch(batcher(), images, true, true, seed);
}

TEST_F(PdqCudaParity, GreyRuleDetectedDeclaredOrOff) {
  const uint32_t seed = 4242;
  std::mt19937 rng(seed);
  std::vector<TestImage> images;
  for (PixelLayout l : {PixelLayout::Rgb, PixelLayout::Rgbx, PixelLayout::Cmyk})
    for (const auto& s : {std::pair<int, int>{64, 64}, {200, 150}, {1500, 1000}}) {
      TestImage detected = random_image(rng, s.first, s.second, l, true);
      images.push_back(detected);
      TestImage declared = detected;
      declared.grey = true;
      declared.detect_grey = false;
      declared.label += " declared";
      images.push_back(declared);
      TestImage off = detected;
      off.detect_grey = false;
      off.label += " detection off";
      images.push_back(off);
      // One colour pixel, at a spot the pre-resize never samples when the
      // source is larger: detection must still see it, as the CPU does.
      TestImage speck = detected;
      const int bpp = hm::pdq::bytes_per_pixel(l);
      const size_t at = ((size_t)(s.second - 1) * s.first + 1) * bpp;
      speck.pixels[at] = (uint8_t)(speck.pixels[at] ^ 0x40);
      speck.label += " one colour pixel";
      images.push_back(speck);
    }
  // Random content rarely moves a bit between the two luma rules; a solid
  // image does, since its hash is rounding noise. Take the grey levels whose
  // weighted luma is not the level itself.
  int levels = 0;
  for (int v = 0; v < 256 && levels < 4; ++v) {
    const float f = (float)v;
    if (hm::pdq::luma_rgb(f, f, f) == f) continue;
    ++levels;
    TestImage solid = solid_image(100, 80, PixelLayout::Rgb, (uint8_t)v);
    images.push_back(solid);
    solid.detect_grey = false;
    solid.label += " detection off";
    images.push_back(solid);
  }
  ASSERT_EQ(levels, 4);
  check_batch(batcher(), images, true, true, seed);
}

TEST_F(PdqCudaParity, MixedBatchesFrom1To1000) {
  for (int n : {1, 2, 7, 64, 1000}) {
    const uint32_t seed = 1000u + (uint32_t)n;
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> side(1, 320);
    std::uniform_int_distribution<int> layout(0, 3);
    std::vector<TestImage> images;
    for (int i = 0; i < n; ++i) {
      const bool big = i % 97 == 5;  // a few take the pre-resize
      const int w = big ? 513 + side(rng) : side(rng);
      const int h = big ? 600 : side(rng);
      images.push_back(random_image(rng, w, h, kLayouts[layout(rng)], i % 11 == 3));
    }
    SCOPED_TRACE("batch of " + std::to_string(n) + ", seed " + std::to_string(seed));
    check_batch(batcher(), images, n != 2, false, seed);
  }
}

TEST_F(PdqCudaParity, SmallChunksOverlapAndGrowStaging) {
  // Chunks of 5 images and 1 MiB of staging: many chunks alternate between
  // the two streams, and a 1000 x 700 RGB image (2 MiB) makes staging grow.
  hm::PdqGpuOptions options;
  options.max_images_per_chunk = 5;
  options.staging_bytes = size_t(1) << 20;
  options.max_blocks = 3;
  hm::PdqGpuBatcher gpu(options);
  const uint32_t seed = 99;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> side(1, 400);
  std::vector<TestImage> images;
  for (int i = 0; i < 40; ++i) images.push_back(random_image(rng, side(rng), side(rng), PixelLayout::Rgb, false));
  images.insert(images.begin() + 17, random_image(rng, 1000, 700, PixelLayout::Rgb, false));
  check_batch(gpu, images, true, false, seed);
  EXPECT_GE(gpu.last_timing().chunks, 9);
  EXPECT_GT(gpu.last_timing().device_ms, 0.0);
}

TEST_F(PdqCudaParity, ResidentBatchMatchesUploadedBatch) {
  const uint32_t seed = 5;
  std::mt19937 rng(seed);
  std::vector<TestImage> images;
  for (int i = 0; i < 50; ++i)
    images.push_back(random_image(rng, 512, 512, i % 2 ? PixelLayout::Rgb : PixelLayout::Grey, i % 7 == 0));
  images.push_back(random_image(rng, 900, 600, PixelLayout::Rgbx, true));
  hm::PdqGpuBatcher& gpu = batcher();
  std::vector<PdqResult> uploaded, resident, again;
  gpu.hash_batch(inputs_of(images), true, uploaded);
  gpu.set_resident(inputs_of(images));
  EXPECT_GT(gpu.hash_resident(true, resident), 0.0);
  gpu.hash_resident(true, again);
  ASSERT_EQ(resident.size(), images.size());
  ASSERT_EQ(again.size(), images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string what = "image " + std::to_string(i) + " (" + images[i].label + ")";
    expect_same(resident[i], uploaded[i], true, what + " resident vs uploaded");
    expect_same(again[i], resident[i], true, what + " resident twice");
    expect_same(resident[i], cpu_expected(images[i], true), true, what + " resident vs PdqSink");
  }
}

// ---- Golden images: decoded by the engine, hashed by both backends. ----

const std::string kGoldenDir = std::string(HM_TEST_DATA) + "/pdq-golden";

std::vector<std::map<std::string, std::string>> load_manifest() {
  std::ifstream in(kGoldenDir + "/manifest.tsv");
  std::vector<std::map<std::string, std::string>> rows;
  auto split = [](const std::string& s) {
    std::vector<std::string> parts;
    std::stringstream ss(s);
    std::string part;
    while (std::getline(ss, part, '\t')) parts.push_back(part);
    if (!s.empty() && s.back() == '\t') parts.push_back("");
    return parts;
  };
  std::string line;
  if (!std::getline(in, line)) return rows;
  const std::vector<std::string> header = split(line);
  while (std::getline(in, line)) {
    const std::vector<std::string> parts = split(line);
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size(); ++i) row[header[i]] = i < parts.size() ? parts[i] : "";
    rows.push_back(std::move(row));
  }
  return rows;
}

/// FullImageSink keeps 1 or 3 channels and the decoder's grey-detection choice.
TestImage decode_golden(const std::string& file, bool* ok) {
  std::ifstream f(kGoldenDir + "/images/" + file, std::ios::binary);
  const std::vector<uint8_t> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  hm::FullImageSink sink;
  const hm::DecodeOutcome outcome = hm::decode_image(data.data(), data.size(), hm::DecodeOptions{}, sink);
  TestImage img;
  *ok = outcome.ok() && !data.empty();
  if (!*ok) return img;
  img.width = sink.format().width;
  img.height = sink.format().height;
  img.layout = sink.format().channels == 1 ? PixelLayout::Grey : PixelLayout::Rgb;
  img.detect_grey = sink.format().detect_grey;
  img.pixels = sink.pixels();
  img.label = file;
  return img;
}

TEST_F(PdqCudaParity, GoldenImagesMatchCpuAndReferenceHashes) {
  const auto rows = load_manifest();
  ASSERT_EQ(rows.size(), 401u) << "tests/data/pdq-golden/manifest.tsv missing or cut short";
  std::vector<TestImage> images;
  std::vector<const std::map<std::string, std::string>*> meta;
  for (const auto& row : rows) {
    const std::string& status = row.at("status");
    if (status != "ok" && status != "ok_decoder_warning" && status != "below_min_dim") continue;
    bool ok = false;
    TestImage img = decode_golden(row.at("file"), &ok);
    ASSERT_TRUE(ok) << row.at("file");
    images.push_back(std::move(img));
    meta.push_back(&row);
  }
  EXPECT_EQ(images.size(), 398u);
  std::vector<PdqResult> got;
  batcher().hash_batch(inputs_of(images), true, got);
  ASSERT_EQ(got.size(), images.size());
  const char* columns[] = {"dih_rot90", "dih_rot180", "dih_rot270", "dih_flipx",
                           "dih_flipy", "dih_flipplus1", "dih_flipminus1"};
  int compared_to_reference = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    expect_same(got[i], cpu_expected(images[i], true), true, images[i].label + " vs PdqSink");
    const auto& row = *meta[i];
    // Real 16-bit PNGs match the reference only in its low-byte mode; the
    // default scales them, so only the CPU comparison applies.
    if (row.at("status") == "below_min_dim" || row.at("variant") == "png16_true") continue;
    EXPECT_EQ(hex(got[i].hash), row.at("pdq_hex")) << images[i].label;
    EXPECT_EQ(std::to_string(got[i].quality), row.at("quality")) << images[i].label;
    for (int t = 1; t < hm::pdq::kDihedralCount; ++t)
      EXPECT_EQ(hex(got[i].dihedral[t]), row.at(columns[t - 1])) << images[i].label << " " << columns[t - 1];
    ++compared_to_reference;
  }
  EXPECT_GT(compared_to_reference, 380);
}

TEST_F(PdqCudaParity, DeviceIsDescribed) {
  const std::vector<hm::CudaDeviceInfo> devices = hm::cuda_devices();
  ASSERT_FALSE(devices.empty());
  EXPECT_FALSE(devices[0].name.empty());
  EXPECT_GT(devices[0].multiprocessors, 0);
  EXPECT_EQ(batcher().device().name, devices[0].name);
}

}  // namespace
