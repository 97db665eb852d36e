// PNG decoding with libpng, matching ImageMagick 6.9.11's pixels (the reference's PNG path).
//
// What ImageMagick hands the reference, and so what we produce:
// - every colour type and bit depth, no gamma, no ICC, no sBIT, no background: the stored samples;
// - alpha dropped (grey+alpha and RGBA keep their stored colour values), tRNS ignored;
// - grey 1/2/4-bit samples widened to 8 bits by replication (x255, x85, x17);
// - palette images expanded to RGB; an index beyond the palette gives black (libpng itself keeps a
//   zeroed 256-entry palette, so this is also what a palette lookup in libpng gives);
// - 16-bit samples reduced per DecodeOptions::sample16 (the reference keeps the low byte).
// Grey colour types go to the sink with channels = 1; everything else as RGB with detect_grey.
//
// Errors: libpng reports them through png_error, which we route to a longjmp back into
// `read_png`. That function keeps no automatic objects with destructors between its setjmp and
// the end of decoding: everything owned lives in PngContext, which its caller holds.
#include <png.h>
#include <setjmp.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "decode.hpp"

namespace hm {

namespace {

constexpr size_t kMaxWarnings = 4;

struct PngContext {
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  bool truncated = false;
  char error[256] = {0};
  std::vector<std::string> warnings;
  size_t warnings_dropped = 0;

  DecodeOutcome* out = nullptr;
  const DecodeOptions* options = nullptr;
  PixelSink* sink = nullptr;

  std::vector<uint8_t> raw;   // one raw row, or the whole raw image when interlaced
  std::vector<uint8_t> line;  // one converted 8-bit row
  png_color palette[256];
  int palette_size = 0;
  bool over_limit = false;    // the header's size is zero or above the pixel limit
};

void on_png_error(png_structp png, png_const_charp message) {
  auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
  if (ctx != nullptr && ctx->error[0] == 0)
    snprintf(ctx->error, sizeof ctx->error, "%s", message != nullptr ? message : "libpng error");
  png_longjmp(png, 1);
}

void on_png_warning(png_structp png, png_const_charp message) {
  auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
  if (ctx == nullptr) return;
  std::string text = std::string("png: ") + (message != nullptr ? message : "warning");
  if (std::find(ctx->warnings.begin(), ctx->warnings.end(), text) != ctx->warnings.end()) return;
  if (ctx->warnings.size() < kMaxWarnings) {
    ctx->warnings.push_back(std::move(text));
  } else {
    ++ctx->warnings_dropped;
  }
}

void on_png_read(png_structp png, png_bytep dest, png_size_t length) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  if (length > ctx->size - ctx->pos) {
    ctx->truncated = true;
    png_error(png, "file is truncated");
  }
  memcpy(dest, ctx->data + ctx->pos, length);
  ctx->pos += length;
}

inline uint8_t reduce16(const uint8_t* p, Sample16 mode) {
  const unsigned v = (unsigned)p[0] << 8 | p[1];
  return mode == Sample16::LowByte ? (uint8_t)(v & 0xff) : (uint8_t)((v + 128) / 257);
}

/// Converts one raw (untransformed, deinterlaced) row to 8-bit grey or RGB, dropping alpha.
void convert_row(const PngContext& ctx, const uint8_t* raw, uint8_t* dst, uint32_t width,
                 int color_type, int bit_depth) {
  const Sample16 mode = ctx.options->sample16;
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_GRAY_ALPHA: {
      const int step = color_type == PNG_COLOR_TYPE_GRAY ? 1 : 2;  // samples per pixel
      if (bit_depth == 16) {
        for (uint32_t x = 0; x < width; ++x) dst[x] = reduce16(raw + (size_t)x * step * 2, mode);
      } else if (bit_depth == 8) {
        for (uint32_t x = 0; x < width; ++x) dst[x] = raw[(size_t)x * step];
      } else {  // 1, 2, 4 bits, grey only; MSB first
        const unsigned max = (1u << bit_depth) - 1;
        const unsigned scale = 255 / max;
        const int per_byte = 8 / bit_depth;
        for (uint32_t x = 0; x < width; ++x) {
          const unsigned byte = raw[x / per_byte];
          const int shift = 8 - bit_depth * (int)(x % per_byte + 1);
          dst[x] = (uint8_t)(((byte >> shift) & max) * scale);
        }
      }
      break;
    }
    case PNG_COLOR_TYPE_RGB:
    case PNG_COLOR_TYPE_RGB_ALPHA: {
      const int step = color_type == PNG_COLOR_TYPE_RGB ? 3 : 4;
      if (bit_depth == 16) {
        for (uint32_t x = 0; x < width; ++x)
          for (int c = 0; c < 3; ++c)
            dst[(size_t)x * 3 + c] = reduce16(raw + ((size_t)x * step + c) * 2, mode);
      } else {
        for (uint32_t x = 0; x < width; ++x)
          for (int c = 0; c < 3; ++c) dst[(size_t)x * 3 + c] = raw[(size_t)x * step + c];
      }
      break;
    }
    case PNG_COLOR_TYPE_PALETTE: {
      const unsigned max = (1u << bit_depth) - 1;
      const int per_byte = 8 / bit_depth;
      for (uint32_t x = 0; x < width; ++x) {
        unsigned index;
        if (bit_depth == 8) {
          index = raw[x];
        } else {
          const int shift = 8 - bit_depth * (int)(x % per_byte + 1);
          index = (raw[x / per_byte] >> shift) & max;
        }
        uint8_t* p = dst + (size_t)x * 3;
        if ((int)index < ctx.palette_size) {
          p[0] = ctx.palette[index].red;
          p[1] = ctx.palette[index].green;
          p[2] = ctx.palette[index].blue;
        } else {
          p[0] = p[1] = p[2] = 0;
        }
      }
      break;
    }
    default: break;
  }
}

/// All libpng calls. Returns true on success; on failure ctx.error (or ctx.limit_error) says why.
/// No automatic variables with destructors live here (see the file comment).
bool read_png(PngContext& ctx, png_structp png, png_infop info) {
  if (setjmp(png_jmpbuf(png))) return false;

  png_set_read_fn(png, &ctx, on_png_read);
  // Our own pixel limit replaces libpng's 1,000,000-per-side default, so that a large image gets
  // a "limit:" error rather than a libpng one; chunk sizes stay bounded against bombs.
  png_set_user_limits(png, 0x7fffffffu, 0x7fffffffu);
  png_set_chunk_cache_max(png, 1000);
  png_set_chunk_malloc_max(png, 16u << 20);
  png_set_benign_errors(png, 1);
  // Nothing ancillary affects the pixels we hand over, so skip decompressing text and the like.
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, nullptr, 0);
  static const png_byte kSkip[] = {'i', 'C', 'C', 'P', 0, 'z', 'T', 'X', 't', 0,
                                   'i', 'T', 'X', 't', 0, 't', 'E', 'X', 't', 0};
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, kSkip, 4);

  png_read_info(png, info);
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, nullptr, nullptr);
  ctx.out->width = (int)width;
  ctx.out->height = (int)height;
  // The caller builds the message (no std::string may live in this function).
  if (width == 0 || height == 0 || (uint64_t)width * height > ctx.options->max_pixels) {
    ctx.over_limit = true;
    return false;
  }
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_colorp palette = nullptr;
    int count = 0;
    if (png_get_PLTE(png, info, &palette, &count) == 0 || palette == nullptr) {
      snprintf(ctx.error, sizeof ctx.error, "palette image without a PLTE chunk");
      return false;
    }
    ctx.palette_size = std::min(count, 256);
    memcpy(ctx.palette, palette, sizeof(png_color) * (size_t)ctx.palette_size);
  }

  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const size_t rowbytes = png_get_rowbytes(png, info);
  const bool grey = (color_type & PNG_COLOR_MASK_COLOR) == 0;
  const int channels = grey ? 1 : 3;

  ctx.line.resize((size_t)width * channels);
  PixelFormat format;
  format.width = (int)width;
  format.height = (int)height;
  format.channels = channels;
  format.detect_grey = !grey;

  if (interlace == PNG_INTERLACE_NONE) {
    ctx.raw.resize(rowbytes);
    ctx.sink->begin(format);
    for (png_uint_32 y = 0; y < height; ++y) {
      png_read_row(png, ctx.raw.data(), nullptr);
      convert_row(ctx, ctx.raw.data(), ctx.line.data(), width, color_type, bit_depth);
      ctx.sink->row((int)y, ctx.line.data());
    }
  } else {
    // Adam7: every pass touches the whole image, so the raw image is kept in full.
    ctx.raw.resize(rowbytes * height);
    for (int pass = 0; pass < passes; ++pass)
      for (png_uint_32 y = 0; y < height; ++y)
        png_read_row(png, ctx.raw.data() + rowbytes * y, nullptr);
    ctx.sink->begin(format);
    for (png_uint_32 y = 0; y < height; ++y) {
      convert_row(ctx, ctx.raw.data() + rowbytes * y, ctx.line.data(), width, color_type,
                  bit_depth);
      ctx.sink->row((int)y, ctx.line.data());
    }
  }
  // The trailing chunks (after the image data) cannot change the pixels: like ImageMagick,
  // a file whose IEND is missing still decodes.
  return true;
}

}  // namespace

DecodeOutcome decode_png(const uint8_t* data, size_t size, const DecodeOptions& options,
                         PixelSink& sink) {
  DecodeOutcome out;
  out.format = ImageFormat::Png;
  if (data == nullptr || size < 8 || png_sig_cmp(data, 0, 8) != 0) {
    out.error = "decode: not a PNG file (bad signature)";
    return out;
  }

  // libpng reports IHDR only after reading every chunk up to the image data; check the size
  // straight from IHDR first, so that a huge image is refused however the rest looks.
  if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
    const uint32_t w = (uint32_t)data[16] << 24 | data[17] << 16 | data[18] << 8 | data[19];
    const uint32_t h = (uint32_t)data[20] << 24 | data[21] << 16 | data[22] << 8 | data[23];
    if (std::string limit = check_pixel_limit(w, h, options); limit.rfind("limit:", 0) == 0) {
      out.width = (int)std::min<uint32_t>(w, 0x7fffffff);
      out.height = (int)std::min<uint32_t>(h, 0x7fffffff);
      out.error = std::move(limit);
      return out;
    }
  }

  PngContext ctx;
  ctx.data = data;
  ctx.size = size;
  ctx.out = &out;
  ctx.options = &options;
  ctx.sink = &sink;

  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_png_error, on_png_warning);
  if (png == nullptr) {
    out.error = "decode: cannot initialise libpng";
    return out;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    out.error = "decode: cannot initialise libpng";
    return out;
  }

  const bool ok = read_png(ctx, png, info);
  png_destroy_read_struct(&png, &info, nullptr);

  if (!ok) {
    if (ctx.over_limit) {
      out.error = check_pixel_limit((uint32_t)out.width, (uint32_t)out.height, options);
    } else if (ctx.truncated) {
      out.error = "decode: truncated PNG file (" + std::to_string(size) + " bytes)";
    } else {
      out.error = std::string("decode: corrupt PNG file: ") + ctx.error;
    }
  }
  out.warnings = std::move(ctx.warnings);
  if (ctx.warnings_dropped > 0)
    out.warnings.push_back("png: " + std::to_string(ctx.warnings_dropped) +
                           " more warnings not shown");
  return out;
}

}  // namespace hm
