// BMP decoding: our own parser, following the reference's two BMP paths.
//
// The reference (CImg 2.2.0 `load_bmp`, called with a file name) reads uncompressed BMPs
// (BI_RGB) natively and always yields 3 channels, so those take the RGB path with no grey
// detection. Any BMP whose compression field is non-zero (RLE8, RLE4, BI_BITFIELDS, ...) is
// handed by CImg to ImageMagick (`load_other`), so it comes back through `convert FILE pnm:-`:
// those get ImageMagick's pixels and grey detection (detect_grey = true), like a PNG.
//
// Supported: BITMAPCOREHEADER (12 bytes), OS/2 2.x headers (16-64 bytes, uncompressed/RLE),
// BITMAPINFOHEADER and its V2/V3/V4/V5 extensions; 1/4/8-bit palettes, 16-bit (555 by default,
// any masks with BI_BITFIELDS / BI_ALPHABITFIELDS), 24-bit, 32-bit (BGRX, or masks); bottom-up
// and top-down rows; RLE8 and RLE4. Alpha is always dropped. BI_JPEG, BI_PNG, Huffman and the
// like are "unsupported:". Any other bit depth is "unsupported:".
//
// Where CImg 2.2.0 is wrong or does not support a variant, we decode correctly instead
// (deviations from the reference, each seen only on unusual files):
// - BITMAPCOREHEADER (and OS/2 headers): CImg reads the fields at BITMAPINFOHEADER offsets and
//   4-byte palette entries, which gives garbage or a failure; we read them properly.
// - 1/4/8-bit images whose palette has fewer than 2/16/256 entries (biClrUsed): CImg leaves the
//   image black; we use the palette.
// - 16-bit BI_RGB (555): CImg stores the raw 5-bit values (0-31), a nearly black image; we widen
//   each field to 8 bits by bit replication (v << 3 | v >> 2), as ImageMagick does.
// - Bit depths CImg does not know (2, 64, ...): CImg returns a black image; we fail.
// - CImg trusts bfSize (a too-small value cuts the pixel data short); we use the real size.
// - A palette index beyond the palette is black (CImg reads past its colour map; ImageMagick
//   would take entry 0). Only possible when biClrUsed is smaller than 2^bpp.
// Same as CImg: pixel data that ends early leaves the missing pixels black (with a warning),
// the 4th byte of 32-bit BI_RGB pixels is ignored, and a pixel-data offset pointing inside the
// palette is taken as "right after the palette".
// For RLE (ImageMagick's decoder): pixels a run skips (delta, end of line) or never reaches are
// palette entry 0; runs that pass the end of a row continue on the next row.
#include <string.h>

#include <string>
#include <vector>

#include "decode.hpp"

namespace hm {

namespace {

enum : uint32_t {
  kBiRgb = 0,
  kBiRle8 = 1,
  kBiRle4 = 2,
  kBiBitfields = 3,
  kBiJpeg = 4,
  kBiPng = 5,
  kBiAlphaBitfields = 6,
};

uint16_t u16(const uint8_t* p) { return (uint16_t)(p[0] | p[1] << 8); }
uint32_t u32(const uint8_t* p) {
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/// One colour channel of a BI_BITFIELDS pixel.
struct Field {
  uint32_t mask = 0;
  int shift = 0;
  int bits = 0;

  explicit Field(uint32_t m = 0) : mask(m) {
    if (mask == 0) return;
    while (((mask >> shift) & 1) == 0) ++shift;
    uint32_t v = mask >> shift;
    while (v != 0) {
      ++bits;
      v >>= 1;
    }
  }

  /// The field widened (bit replication) or narrowed to 8 bits, as ImageMagick does.
  uint8_t extract(uint32_t pixel) const {
    if (bits == 0) return 0;
    const uint32_t v = (pixel & mask) >> shift;
    if (bits == 8) return (uint8_t)v;
    if (bits < 8) {
      uint32_t out = 0;
      for (int pos = 8; pos > 0;) {
        pos -= bits;
        out |= pos >= 0 ? v << pos : v >> -pos;
      }
      return (uint8_t)out;
    }
    // Wider than 8 bits: to 16 bits, then ImageMagick's rounding to 8.
    uint32_t v16 = 0;
    for (int pos = 16; pos > 0;) {
      pos -= bits;
      v16 |= pos >= 0 ? v << pos : v >> -pos;
    }
    v16 &= 0xffff;
    return (uint8_t)(((v16 + 128) - ((v16 + 128) >> 8)) >> 8);
  }
};

struct BmpInfo {
  int64_t width = 0;
  int64_t height = 0;  // always > 0 once parsed
  bool top_down = false;
  int bpp = 0;
  uint32_t compression = kBiRgb;
  uint32_t colors_used = 0;
  bool core = false;  // 3-byte palette entries
  size_t palette_offset = 0;
  Field red, green, blue;
};

}  // namespace

DecodeOutcome decode_bmp(const uint8_t* data, size_t size, const DecodeOptions& options,
                         PixelSink& sink) {
  DecodeOutcome out;
  out.format = ImageFormat::Bmp;
  if (data == nullptr || size < 18) {
    out.error = "decode: truncated BMP file (header)";
    return out;
  }
  if (data[0] != 'B' || data[1] != 'M') {
    out.error = "decode: not a BMP file (bad signature)";
    return out;
  }
  const uint32_t data_offset = u32(data + 10);
  const uint32_t header_size = u32(data + 14);
  BmpInfo info;
  if (header_size < 12 || (header_size > 12 && header_size < 16) || header_size > 0x10000) {
    out.error = "decode: corrupt BMP file (header size " + std::to_string(header_size) + ")";
    return out;
  }
  if (14 + (uint64_t)header_size > size) {
    out.error = "decode: truncated BMP file (header)";
    return out;
  }
  const uint8_t* h = data + 14;
  if (header_size == 12) {  // BITMAPCOREHEADER: unsigned 16-bit sizes, always bottom-up
    info.core = true;
    info.width = u16(h + 4);
    info.height = u16(h + 6);
    info.bpp = u16(h + 10);
  } else {
    info.width = (int32_t)u32(h + 4);
    const int32_t raw_height = (int32_t)u32(h + 8);
    info.top_down = raw_height < 0;
    info.height = raw_height < 0 ? -(int64_t)raw_height : raw_height;
    info.bpp = u16(h + 14);
    if (header_size >= 20) info.compression = u32(h + 16);
    if (header_size >= 36) info.colors_used = u32(h + 32);
    const bool os2 = header_size < 40 || header_size == 64;
    if (os2 && info.compression > kBiRle4) {
      out.width = (int)info.width;
      out.height = (int)info.height;
      out.error = "unsupported: OS/2 BMP compression " + std::to_string(info.compression);
      return out;
    }
  }
  info.palette_offset = 14 + (size_t)header_size;
  if (info.width <= 0 || info.height <= 0 || info.width > 0x7fffffff || info.height > 0x7fffffff) {
    out.error = "decode: corrupt BMP file (size " + std::to_string(info.width) + "x" +
                std::to_string(info.top_down ? -info.height : info.height) + ")";
    return out;
  }
  out.width = (int)info.width;
  out.height = (int)info.height;
  if (std::string limit = check_pixel_limit((uint64_t)info.width, (uint64_t)info.height, options);
      !limit.empty()) {
    out.error = std::move(limit);
    return out;
  }

  // Which decoding applies.
  const int bpp = info.bpp;
  const uint32_t comp = info.compression;
  bool ok_combination = false;
  switch (comp) {
    case kBiRgb: ok_combination = bpp == 1 || bpp == 4 || bpp == 8 || bpp == 16 || bpp == 24 ||
                                  bpp == 32;
      break;
    case kBiRle8: ok_combination = bpp == 8; break;
    case kBiRle4: ok_combination = bpp == 4; break;
    case kBiBitfields:
    case kBiAlphaBitfields: ok_combination = bpp == 16 || bpp == 32; break;
    case kBiJpeg: out.error = "unsupported: BMP with embedded JPEG data"; return out;
    case kBiPng: out.error = "unsupported: BMP with embedded PNG data"; return out;
    default:
      out.error = "unsupported: BMP compression " + std::to_string(comp);
      return out;
  }
  if (!ok_combination) {
    out.error = "unsupported: BMP with " + std::to_string(bpp) + " bits per pixel and compression " +
                std::to_string(comp);
    return out;
  }
  if ((comp == kBiRle8 || comp == kBiRle4) && info.top_down) {
    out.error = "decode: corrupt BMP file (top-down rows with RLE compression)";
    return out;
  }

  // Channel masks.
  if (comp == kBiBitfields || comp == kBiAlphaBitfields) {
    size_t at;
    if (header_size >= 52) {
      at = 14 + 40;
    } else {
      at = info.palette_offset;  // masks follow a 40-byte header
      info.palette_offset += comp == kBiAlphaBitfields ? 16 : 12;
    }
    if (at + 12 > size) {
      out.error = "decode: truncated BMP file (colour masks)";
      return out;
    }
    info.red = Field(u32(data + at));
    info.green = Field(u32(data + at + 4));
    info.blue = Field(u32(data + at + 8));
  } else if (bpp == 16) {
    info.red = Field(0x7c00);
    info.green = Field(0x03e0);
    info.blue = Field(0x001f);
  } else if (bpp == 32) {
    info.red = Field(0x00ff0000);
    info.green = Field(0x0000ff00);
    info.blue = Field(0x000000ff);
  }

  // Palette: index -> RGB, indices past the palette black.
  uint8_t lut[256][3];
  memset(lut, 0, sizeof lut);
  size_t palette_end = info.palette_offset;
  if (bpp <= 8) {
    const uint32_t max_colors = 1u << bpp;
    const uint32_t count = info.colors_used == 0 || info.colors_used > max_colors
                               ? max_colors
                               : info.colors_used;
    const size_t entry = info.core ? 3 : 4;
    palette_end = info.palette_offset + (size_t)count * entry;
    if (palette_end > size) {
      out.error = "decode: truncated BMP file (palette)";
      return out;
    }
    for (uint32_t i = 0; i < count; ++i) {
      const uint8_t* p = data + info.palette_offset + (size_t)i * entry;
      lut[i][0] = p[2];
      lut[i][1] = p[1];
      lut[i][2] = p[0];
    }
  }
  const size_t pixels_at = data_offset < palette_end ? palette_end : data_offset;
  if (pixels_at >= size) {
    out.error = "decode: truncated BMP file (no pixel data)";
    return out;
  }
  const uint8_t* pixels = data + pixels_at;
  const size_t available = size - pixels_at;

  const size_t width = (size_t)info.width;
  const size_t height = (size_t)info.height;
  PixelFormat format;
  format.width = (int)width;
  format.height = (int)height;
  format.channels = 3;
  format.detect_grey = comp != kBiRgb;  // compressed BMPs reach the reference through IM
  std::vector<uint8_t> rgb(width * 3);

  if (comp == kBiRle8 || comp == kBiRle4) {
    // ImageMagick's RLE semantics: a flat index buffer, bottom row first.
    std::vector<uint8_t> indices(width * height, 0);
    const size_t total = indices.size();
    size_t p = 0, x = 0, y = 0, pos = 0;
    bool finished = false;
    auto next = [&](uint32_t* byte) {
      if (pos >= available) return false;
      *byte = pixels[pos++];
      return true;
    };
    while (!finished) {
      uint32_t count = 0, value = 0;
      if (!next(&count) || !next(&value)) break;
      if (count != 0) {
        const size_t n = count < total - p ? count : total - p;
        for (size_t i = 0; i < n; ++i)
          indices[p++] = (uint8_t)(comp == kBiRle8 ? value : (i & 1) ? value & 0x0f : value >> 4);
        x += count;
        continue;
      }
      if (value == 0) {  // end of line
        x = 0;
        ++y;
        p = y < height ? y * width : total;
      } else if (value == 1) {  // end of bitmap
        finished = true;
      } else if (value == 2) {  // delta
        uint32_t dx = 0, dy = 0;
        if (!next(&dx) || !next(&dy)) break;
        x += dx;
        y += dy;
        p = y < height && x < width ? y * width + x : total;
      } else {  // absolute run of `value` pixels, padded to 16 bits
        const uint32_t n = value;
        const size_t bytes = comp == kBiRle8 ? n : (n + 1) / 2;
        if (bytes > available - pos) {
          pos = available;
          break;
        }
        for (uint32_t i = 0; i < n; ++i) {
          const uint8_t b = pixels[pos + (comp == kBiRle8 ? i : i / 2)];
          if (p < total) indices[p++] = comp == kBiRle8 ? b : (i & 1) ? b & 0x0f : b >> 4;
        }
        pos += bytes + (bytes & 1);
        x += n;
      }
    }
    if (!finished)
      out.warnings.push_back("bmp: RLE data ends before its end-of-bitmap marker");
    sink.begin(format);
    for (size_t row = 0; row < height; ++row) {
      const uint8_t* src = &indices[(height - 1 - row) * width];
      for (size_t i = 0; i < width; ++i) memcpy(&rgb[i * 3], lut[src[i]], 3);
      sink.row((int)row, rgb.data());
    }
    return out;
  }

  // Uncompressed and bit-field rows, read in place from the file (no image buffer).
  const uint64_t stride = ((uint64_t)width * bpp + 31) / 32 * 4;
  const uint64_t row_bytes = ((uint64_t)width * bpp + 7) / 8;
  std::vector<uint8_t> padded;  // a row cut short by the end of the file, zero-filled
  bool short_data = false;
  sink.begin(format);
  for (size_t row = 0; row < height; ++row) {
    const uint64_t stored = info.top_down ? row : height - 1 - row;
    const uint64_t start = stored * stride;
    const uint8_t* src;
    if (start + row_bytes <= available) {
      src = pixels + start;
    } else {
      short_data = true;
      padded.assign(row_bytes, 0);
      if (start < available) memcpy(padded.data(), pixels + start, available - start);
      src = padded.data();
    }
    switch (bpp) {
      case 1:
      case 4:
      case 8: {
        const int per_byte = 8 / bpp;
        const unsigned mask = (1u << bpp) - 1;
        for (size_t i = 0; i < width; ++i) {
          const int shift = 8 - bpp * (int)(i % per_byte + 1);
          memcpy(&rgb[i * 3], lut[(src[i / per_byte] >> shift) & mask], 3);
        }
        break;
      }
      case 16:
        for (size_t i = 0; i < width; ++i) {
          const uint32_t v = u16(src + i * 2);
          rgb[i * 3] = info.red.extract(v);
          rgb[i * 3 + 1] = info.green.extract(v);
          rgb[i * 3 + 2] = info.blue.extract(v);
        }
        break;
      case 24:
        for (size_t i = 0; i < width; ++i) {
          rgb[i * 3] = src[i * 3 + 2];
          rgb[i * 3 + 1] = src[i * 3 + 1];
          rgb[i * 3 + 2] = src[i * 3];
        }
        break;
      case 32:
        for (size_t i = 0; i < width; ++i) {
          const uint32_t v = u32(src + i * 4);
          rgb[i * 3] = info.red.extract(v);
          rgb[i * 3 + 1] = info.green.extract(v);
          rgb[i * 3 + 2] = info.blue.extract(v);
        }
        break;
      default: break;
    }
    sink.row((int)row, rgb.data());
  }
  if (short_data)
    out.warnings.push_back("bmp: pixel data ends early; the missing pixels are black");
  return out;
}

}  // namespace hm
