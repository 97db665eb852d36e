// Decoding on the CPU per format and image size: the engine's decoders into a
// whole-image sink and into the PDQ sink (decode + hash, as the engine does
// it), and libjpeg-turbo alone as the floor for JPEG. The test images are
// synthesised and encoded in memory at startup with each format's library.
#include <benchmark/benchmark.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gif_lib.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

#include "decode.hpp"
#include "pdq_sink.hpp"
#include "pixel_sink.hpp"

namespace {

using Bytes = std::vector<uint8_t>;

enum class Format { Jpeg, Png, Webp, Gif, Bmp };
constexpr Format kFormats[] = {Format::Jpeg, Format::Png, Format::Webp, Format::Gif, Format::Bmp};
constexpr int kSizes[] = {256, 512, 1024, 2048};  ///< long side in pixels
constexpr int k12Mp = 4000;                          ///< 4000 x 3000, JPEG only

const char* name_of(Format f) {
  switch (f) {
    case Format::Jpeg: return "Jpeg";
    case Format::Png: return "Png";
    case Format::Webp: return "Webp";
    case Format::Gif: return "Gif";
    case Format::Bmp: return "Bmp";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Test images

struct Rgb {
  int width = 0;
  int height = 0;
  Bytes px;  ///< row-major RGB
};

/// A smooth photo-like 4:3 landscape: two-way gradients, slow waves, a few
/// flat-ish shapes with soft edges, and mild seeded noise.
Rgb photo_like(int long_side) {
  Rgb img;
  img.width = long_side;
  img.height = long_side * 3 / 4;
  const int w = img.width, h = img.height;
  img.px.resize((size_t)w * h * 3);
  std::mt19937 rng(1234);
  std::normal_distribution<float> noise(0.f, 3.f);
  struct Disc { float cx, cy, r, rgb[3]; };
  const Disc discs[] = {{0.30f, 0.40f, 0.18f, {220, 80, 60}},
                        {0.70f, 0.55f, 0.12f, {40, 160, 90}},
                        {0.55f, 0.25f, 0.07f, {250, 230, 120}}};
  for (int y = 0; y < h; ++y) {
    const float fy = (y + 0.5f) / h;
    for (int x = 0; x < w; ++x) {
      const float fx = (x + 0.5f) / w;
      // Sky-to-ground gradient with a slow wave on top.
      float c[3] = {60 + 120 * fx + 40 * fy, 90 + 80 * (1 - fy) + 30 * std::sin(6.f * fx),
                    200 - 150 * fy + 20 * std::cos(5.f * fx + 3.f * fy)};
      // A rectangle ("building") with a soft edge.
      if (fx > 0.08f && fx < 0.22f && fy > 0.55f && fy < 0.95f)
        for (int k = 0; k < 3; ++k) c[k] = 0.3f * c[k] + 0.7f * (90 + 20 * k);
      for (const Disc& d : discs) {
        const float dx = fx - d.cx, dy = (fy - d.cy) * h / w;
        const float dist = std::sqrt(dx * dx + dy * dy);
        const float a = std::clamp((d.r - dist) * 200.f, 0.f, 1.f);  // antialiased edge
        const float shade = 1.f - 0.8f * dist / d.r * a;
        for (int k = 0; k < 3; ++k) c[k] = (1 - a) * c[k] + a * d.rgb[k] * (0.6f + 0.4f * shade);
      }
      uint8_t* p = &img.px[((size_t)y * w + x) * 3];
      for (int k = 0; k < 3; ++k)
        p[k] = (uint8_t)std::clamp((int)std::lround(c[k] + noise(rng)), 0, 255);
    }
  }
  return img;
}

// --- JPEG (libjpeg-turbo, quality 85, 4:2:0) and the libjpeg-only decode ---

struct JpegError {
  jpeg_error_mgr base;
  jmp_buf jump;
};
void jpeg_throw(j_common_ptr cinfo) { longjmp(reinterpret_cast<JpegError*>(cinfo->err)->jump, 1); }
void jpeg_quiet(j_common_ptr, int) {}

Bytes encode_jpeg(const Rgb& img) {
  jpeg_compress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = jpeg_throw;
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    free(buf);
    throw std::runtime_error("jpeg encode failed");
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buf, &size);
  cinfo.image_width = (JDIMENSION)img.width;
  cinfo.image_height = (JDIMENSION)img.height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 85, TRUE);
  cinfo.comp_info[0].h_samp_factor = 2;  // 4:2:0
  cinfo.comp_info[0].v_samp_factor = 2;
  for (int c = 1; c < 3; ++c) cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
  jpeg_start_compress(&cinfo, TRUE);
  const size_t stride = (size_t)img.width * 3;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(img.px.data() + cinfo.next_scanline * stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  Bytes out(buf, buf + size);
  free(buf);
  return out;
}

/// libjpeg-turbo as djpeg runs it: defaults (ISLOW, fancy upsampling), RGB
/// out for colour files (grey and CMYK files keep their own output space, as
/// JCS_RGB cannot be produced from CMYK), rows read into a small row buffer.
/// Returns the pixel count, or 0 when libjpeg gave up.
uint64_t libjpeg_decode(const Bytes& data, Bytes& rows) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = jpeg_throw;
  err.base.emit_message = jpeg_quiet;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return 0;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data.data(), (unsigned long)data.size());
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_RGB)
    cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const size_t stride = (size_t)cinfo.output_width * cinfo.output_components;
  const int batch = std::max(1, cinfo.rec_outbuf_height);
  if (rows.size() < stride * batch) rows.resize(stride * batch);
  JSAMPROW pointers[16];
  for (int r = 0; r < batch; ++r) pointers[r] = rows.data() + r * stride;
  while (cinfo.output_scanline < cinfo.output_height)
    jpeg_read_scanlines(&cinfo, pointers, (JDIMENSION)batch);
  const uint64_t pixels = (uint64_t)cinfo.output_width * cinfo.output_height;
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return pixels;
}

// --- PNG (libpng into a memory buffer) ---

void png_append(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}
void png_no_flush(png_structp) {}

Bytes encode_png(const Rgb& img) {
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw std::runtime_error("png_create_write_struct failed");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("png encode failed");
  }
  png_set_write_fn(png, &out, png_append, png_no_flush);
  png_set_IHDR(png, info, (png_uint_32)img.width, (png_uint_32)img.height, 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const size_t stride = (size_t)img.width * 3;
  for (int y = 0; y < img.height; ++y)
    png_write_row(png, const_cast<png_bytep>(img.px.data() + y * stride));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

// --- WebP (lossy, quality 80) ---

Bytes encode_webp(const Rgb& img) {
  uint8_t* buf = nullptr;
  const size_t size = WebPEncodeRGB(img.px.data(), img.width, img.height, img.width * 3, 80.f, &buf);
  if (size == 0) throw std::runtime_error("WebPEncodeRGB failed");
  Bytes out(buf, buf + size);
  WebPFree(buf);
  return out;
}

// --- GIF (giflib, 6x7x6 colour cube) ---

int gif_append(GifFileType* gif, const GifByteType* data, int length) {
  auto* out = static_cast<Bytes*>(gif->UserData);
  out->insert(out->end(), data, data + length);
  return length;
}

Bytes encode_gif(const Rgb& img) {
  constexpr int kR = 6, kG = 7, kB = 6;  // 252 colours
  ColorMapObject* map = GifMakeMapObject(256, nullptr);
  if (!map) throw std::runtime_error("GifMakeMapObject failed");
  for (int i = 0; i < 256; ++i) map->Colors[i] = GifColorType{0, 0, 0};
  for (int r = 0; r < kR; ++r)
    for (int g = 0; g < kG; ++g)
      for (int b = 0; b < kB; ++b)
        map->Colors[(r * kG + g) * kB + b] =
            GifColorType{(GifByteType)(r * 255 / (kR - 1)), (GifByteType)(g * 255 / (kG - 1)),
                         (GifByteType)(b * 255 / (kB - 1))};
  Bytes out;
  int error = 0;
  GifFileType* gif = EGifOpen(&out, gif_append, &error);
  bool ok = gif != nullptr;
  ok = ok && EGifPutScreenDesc(gif, img.width, img.height, 8, 0, map) == GIF_OK;
  ok = ok && EGifPutImageDesc(gif, 0, 0, img.width, img.height, false, nullptr) == GIF_OK;
  std::vector<GifPixelType> line(img.width);
  for (int y = 0; ok && y < img.height; ++y) {
    const uint8_t* p = &img.px[(size_t)y * img.width * 3];
    for (int x = 0; x < img.width; ++x, p += 3) {
      const int r = (p[0] * (kR - 1) + 127) / 255;
      const int g = (p[1] * (kG - 1) + 127) / 255;
      const int b = (p[2] * (kB - 1) + 127) / 255;
      line[x] = (GifPixelType)((r * kG + g) * kB + b);
    }
    ok = EGifPutLine(gif, line.data(), img.width) == GIF_OK;
  }
  if (gif && EGifCloseFile(gif, &error) != GIF_OK) ok = false;
  GifFreeMapObject(map);
  if (!ok) throw std::runtime_error("gif encode failed");
  return out;
}

// --- BMP (24-bit, BITMAPINFOHEADER, bottom-up) ---

void put_le(Bytes& out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back((uint8_t)(v >> (8 * i)));
}

Bytes encode_bmp(const Rgb& img) {
  const uint32_t stride = ((uint32_t)img.width * 3 + 3) & ~3u;
  const uint32_t image_size = stride * (uint32_t)img.height;
  const uint32_t offset = 14 + 40;
  Bytes out;
  out.reserve(offset + image_size);
  out.push_back('B');  // BITMAPFILEHEADER
  out.push_back('M');
  put_le(out, offset + image_size, 4);
  put_le(out, 0, 4);  // reserved
  put_le(out, offset, 4);
  put_le(out, 40, 4);  // BITMAPINFOHEADER
  put_le(out, (uint32_t)img.width, 4);
  put_le(out, (uint32_t)img.height, 4);  // positive: bottom-up
  put_le(out, 1, 2);                     // planes
  put_le(out, 24, 2);                    // bits per pixel
  put_le(out, 0, 4);                     // BI_RGB
  put_le(out, image_size, 4);
  put_le(out, 2835, 4);  // 72 dpi
  put_le(out, 2835, 4);
  put_le(out, 0, 4);  // palette colours
  put_le(out, 0, 4);  // important colours
  for (int y = img.height - 1; y >= 0; --y) {
    const uint8_t* p = &img.px[(size_t)y * img.width * 3];
    for (int x = 0; x < img.width; ++x, p += 3) {
      out.push_back(p[2]);
      out.push_back(p[1]);
      out.push_back(p[0]);
    }
    for (uint32_t pad = (uint32_t)img.width * 3; pad < stride; ++pad) out.push_back(0);
  }
  return out;
}

// --- The corpus: each (format, size) encoded once, on first use ---

struct Encoded {
  int width = 0;
  int height = 0;
  Bytes bytes;
};

const Encoded& encoded(Format format, int size) {
  static std::map<int, Rgb> images;
  static std::map<std::pair<int, int>, Encoded> files;
  const auto key = std::make_pair((int)format, size);
  auto it = files.find(key);
  if (it != files.end()) return it->second;
  auto img_it = images.find(size);
  if (img_it == images.end()) img_it = images.emplace(size, photo_like(size)).first;
  const Rgb& img = img_it->second;
  Encoded e;
  e.width = img.width;
  e.height = img.height;
  switch (format) {
    case Format::Jpeg: e.bytes = encode_jpeg(img); break;
    case Format::Png: e.bytes = encode_png(img); break;
    case Format::Webp: e.bytes = encode_webp(img); break;
    case Format::Gif: e.bytes = encode_gif(img); break;
    case Format::Bmp: e.bytes = encode_bmp(img); break;
  }
  return files.emplace(key, std::move(e)).first->second;
}

/// The golden JPEGs (real photos, plus the few deliberately broken files),
/// read once; empty when the folder is missing.
const std::vector<Bytes>& golden_jpegs() {
  static const std::vector<Bytes> files = [] {
    std::vector<Bytes> out;
    const std::string dir = std::string(HM_TEST_DATA) + "/pdq-golden/images";
    std::vector<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
      while (const dirent* entry = readdir(d)) {
        const std::string name = entry->d_name;
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".jpg") == 0) names.push_back(name);
      }
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      std::ifstream in(dir + "/" + name, std::ios::binary);
      out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return out;
  }();
  return files;
}

void report(benchmark::State& state, int64_t images_per_iter, int64_t bytes_per_iter,
            double pixels_per_iter) {
  state.SetItemsProcessed(state.iterations() * images_per_iter);
  state.SetBytesProcessed(state.iterations() * bytes_per_iter);
  state.counters["MP/s"] = benchmark::Counter(
      (double)state.iterations() * pixels_per_iter / 1e6, benchmark::Counter::kIsRate);
}

// ---------------------------------------------------------------------------
// Benchmarks

/// decode_image into a FullImageSink (the decoder plus one copy to RGB).
void BM_Decode_Cpu(benchmark::State& state, Format format) {
  const Encoded& e = encoded(format, (int)state.range(0));
  const hm::DecodeOptions options;
  hm::FullImageSink sink;
  for (auto _ : state) {
    const hm::DecodeOutcome outcome = hm::decode_image(e.bytes.data(), e.bytes.size(), options, sink);
    if (!outcome.ok()) {
      state.SkipWithError(outcome.error.c_str());
      break;
    }
    benchmark::DoNotOptimize(sink.pixels().data());
  }
  report(state, 1, (int64_t)e.bytes.size(), (double)e.width * e.height);
}

/// decode_image into a PdqSink, then the hash: decode + PDQ as the engine runs it.
void BM_Decode_PdqSink_Cpu(benchmark::State& state, Format format) {
  const Encoded& e = encoded(format, (int)state.range(0));
  const hm::DecodeOptions options;
  hm::PdqSink sink;
  hm::pdq::PdqResult result;
  for (auto _ : state) {
    const hm::DecodeOutcome outcome = hm::decode_image(e.bytes.data(), e.bytes.size(), options, sink);
    if (!outcome.ok() || !sink.complete()) {
      state.SkipWithError(outcome.ok() ? "incomplete image" : outcome.error.c_str());
      break;
    }
    sink.hash(false, result);
    benchmark::DoNotOptimize(result);
  }
  report(state, 1, (int64_t)e.bytes.size(), (double)e.width * e.height);
}

/// libjpeg-turbo alone on the same bytes: the floor for the two above.
void BM_Decode_Jpeg_LibjpegOnly(benchmark::State& state) {
  const Encoded& e = encoded(Format::Jpeg, (int)state.range(0));
  Bytes rows;
  for (auto _ : state) {
    if (libjpeg_decode(e.bytes, rows) == 0) {
      state.SkipWithError("libjpeg failed");
      break;
    }
    benchmark::DoNotOptimize(rows.data());
  }
  report(state, 1, (int64_t)e.bytes.size(), (double)e.width * e.height);
}

int64_t total_bytes(const std::vector<Bytes>& files) {
  int64_t n = 0;
  for (const Bytes& f : files) n += (int64_t)f.size();
  return n;
}

/// Every golden JPEG per iteration through decode + PDQ. Files the decoder
/// rejects count as images but not as pixels.
void BM_Decode_Jpeg_PdqSink_Golden(benchmark::State& state) {
  const auto& files = golden_jpegs();
  if (files.empty()) {
    state.SkipWithError("no JPEGs under " HM_TEST_DATA "/pdq-golden/images");
    return;
  }
  const hm::DecodeOptions options;
  hm::PdqSink sink;
  hm::pdq::PdqResult result;
  double pixels = 0;
  int64_t failed = 0;
  for (auto _ : state) {
    pixels = 0;
    failed = 0;
    for (const Bytes& f : files) {
      sink.reset();
      const hm::DecodeOutcome outcome = hm::decode_image(f.data(), f.size(), options, sink);
      if (!outcome.ok() || !sink.complete()) {
        ++failed;
        continue;
      }
      sink.hash(false, result);
      benchmark::DoNotOptimize(result);
      pixels += (double)outcome.width * outcome.height;
    }
  }
  report(state, (int64_t)files.size(), total_bytes(files), pixels);
  state.counters["failed"] = (double)failed;
}

void BM_Decode_Jpeg_LibjpegOnly_Golden(benchmark::State& state) {
  const auto& files = golden_jpegs();
  if (files.empty()) {
    state.SkipWithError("no JPEGs under " HM_TEST_DATA "/pdq-golden/images");
    return;
  }
  Bytes rows;
  double pixels = 0;
  int64_t failed = 0;
  for (auto _ : state) {
    pixels = 0;
    failed = 0;
    for (const Bytes& f : files) {
      const uint64_t n = libjpeg_decode(f, rows);
      if (n == 0) ++failed;
      pixels += (double)n;
      benchmark::DoNotOptimize(rows.data());
    }
  }
  report(state, (int64_t)files.size(), total_bytes(files), pixels);
  state.counters["failed"] = (double)failed;
}

/// Registered in a fixed order (format, then sink) with names of the form
/// BM_Decode_<Format>_<What>/size:<N>.
void register_all() {
  // The default minimum time (0.5 s per case) keeps a full run near a minute
  // on 2 cores and the names free of a /min_time suffix.
  auto sized = [](benchmark::internal::Benchmark* b) {
    b->ArgName("size");
    for (int s : kSizes) b->Arg(s);
    b->Unit(benchmark::kMicrosecond);
    return b;
  };
  for (Format f : kFormats) {
    const std::string name = std::string("BM_Decode_") + name_of(f);
    sized(benchmark::RegisterBenchmark((name + "_Cpu").c_str(), BM_Decode_Cpu, f));
    auto* pdq = benchmark::RegisterBenchmark((name + "_PdqSink_Cpu").c_str(), BM_Decode_PdqSink_Cpu, f);
    sized(pdq);
    if (f == Format::Jpeg) {
      // And a 12 MP photo, the size of today's phone cameras.
      pdq->Arg(k12Mp);
      sized(benchmark::RegisterBenchmark("BM_Decode_Jpeg_LibjpegOnly", BM_Decode_Jpeg_LibjpegOnly))
          ->Arg(k12Mp);
    }
  }
  // Hundreds of files per iteration (~1 s on 2 cores): one or two iterations.
  benchmark::RegisterBenchmark("BM_Decode_Jpeg_PdqSink_Cpu/golden", BM_Decode_Jpeg_PdqSink_Golden)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_Decode_Jpeg_LibjpegOnly/golden", BM_Decode_Jpeg_LibjpegOnly_Golden)
      ->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
