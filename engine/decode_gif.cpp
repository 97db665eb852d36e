// GIF decoding with giflib, matching ImageMagick 6.9.11's first frame (the reference's GIF path).
//
// What `convert anim.gif pnm:-` gives for the first image, checked against ImageMagick:
// - the first image record at its own size (its offset on the logical screen and the screen's
//   size are ignored: no compositing onto the screen, no background colour);
// - transparent pixels keep their colour-map colour (alpha is dropped, not composited);
// - an index beyond the colour map takes entry 0 (ImageMagick's ConstrainColormapIndex);
// - the local colour map when the image has one, else the global one; with neither we fail
//   (ImageMagick would invent a black image, which no hash should come from).
// Only the first image record is read: later frames are never touched, so a file with a million
// frames costs no more than its first. Extensions before it are skipped block by block.
#include <gif_lib.h>
#include <string.h>

#include <string>
#include <vector>

#include "decode.hpp"

namespace hm {

namespace {

struct GifInput {
  const uint8_t* data;
  size_t size;
  size_t pos;
  bool truncated;
};

int read_gif_bytes(GifFileType* gif, GifByteType* dest, int length) {
  auto* in = static_cast<GifInput*>(gif->UserData);
  if (length <= 0) return 0;
  size_t n = (size_t)length;
  if (n > in->size - in->pos) {
    n = in->size - in->pos;
    in->truncated = true;
  }
  if (n > 0) memcpy(dest, in->data + in->pos, n);
  in->pos += n;
  return (int)n;
}

struct GifCloser {
  GifFileType* gif = nullptr;
  ~GifCloser() {
    if (gif != nullptr) {
      int error = 0;
      DGifCloseFile(gif, &error);
    }
  }
};

std::string gif_error(const GifInput& in, int code, const char* what) {
  if (in.truncated) return std::string("decode: truncated GIF file (while reading ") + what + ")";
  const char* text = GifErrorString(code);
  return std::string("decode: corrupt GIF file (") + what + ": " +
         (text != nullptr ? text : "unknown error") + ")";
}

}  // namespace

DecodeOutcome decode_gif(const uint8_t* data, size_t size, const DecodeOptions& options,
                         PixelSink& sink) {
  DecodeOutcome out;
  out.format = ImageFormat::Gif;
  GifInput in{data, data != nullptr ? size : 0, 0, false};

  int error = 0;
  GifCloser closer;
  closer.gif = DGifOpen(&in, read_gif_bytes, &error);
  GifFileType* gif = closer.gif;
  if (gif == nullptr) {
    out.error = gif_error(in, error, "header");
    return out;
  }
  out.width = gif->SWidth;
  out.height = gif->SHeight;
  // The logical screen is never allocated (ImageMagick, and so the reference,
  // hashes the first frame at its own size), so only the frame is limited.

  // Skip extensions up to the first image descriptor.
  for (;;) {
    GifRecordType type = UNDEFINED_RECORD_TYPE;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) {
      out.error = gif_error(in, gif->Error, "record type");
      return out;
    }
    if (type == IMAGE_DESC_RECORD_TYPE) break;
    if (type == TERMINATE_RECORD_TYPE) {
      out.error = "decode: GIF file has no image";
      return out;
    }
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* block = nullptr;
      if (DGifGetExtension(gif, &code, &block) == GIF_ERROR) {
        out.error = gif_error(in, gif->Error, "extension");
        return out;
      }
      while (block != nullptr) {
        if (DGifGetExtensionNext(gif, &block) == GIF_ERROR) {
          out.error = gif_error(in, gif->Error, "extension");
          return out;
        }
      }
    } else {
      out.error = "decode: corrupt GIF file (unknown record type)";
      return out;
    }
  }

  if (DGifGetImageDesc(gif) == GIF_ERROR) {
    out.error = gif_error(in, gif->Error, "image descriptor");
    return out;
  }
  const int width = gif->Image.Width;
  const int height = gif->Image.Height;
  out.width = width;
  out.height = height;
  if (std::string limit = check_pixel_limit((uint64_t)width, (uint64_t)height, options);
      !limit.empty()) {
    out.error = std::move(limit);
    return out;
  }
  const ColorMapObject* map = gif->Image.ColorMap != nullptr ? gif->Image.ColorMap : gif->SColorMap;
  if (map == nullptr || map->Colors == nullptr || map->ColorCount <= 0) {
    out.error = "decode: GIF image has no colour map (neither local nor global)";
    return out;
  }
  // Index -> RGB for all 256 possible indices; out-of-range ones take entry 0, as in ImageMagick.
  uint8_t lut[256][3];
  for (int i = 0; i < 256; ++i) {
    const GifColorType& c = map->Colors[i < map->ColorCount ? i : 0];
    lut[i][0] = c.Red;
    lut[i][1] = c.Green;
    lut[i][2] = c.Blue;
  }

  PixelFormat format;
  format.width = width;
  format.height = height;
  format.channels = 3;
  format.detect_grey = true;
  std::vector<uint8_t> rgb((size_t)width * 3);
  auto expand = [&](const GifPixelType* indices) {
    for (int x = 0; x < width; ++x) memcpy(&rgb[(size_t)x * 3], lut[indices[x]], 3);
  };

  if (!gif->Image.Interlace) {
    std::vector<GifPixelType> line((size_t)width);
    sink.begin(format);
    for (int y = 0; y < height; ++y) {
      if (DGifGetLine(gif, line.data(), width) == GIF_ERROR) {
        out.error = gif_error(in, gif->Error, "image data");
        return out;
      }
      expand(line.data());
      sink.row(y, rgb.data());
    }
    return out;
  }

  // Interlaced: rows arrive in four passes (every 8th from 0, every 8th from 4, every 4th from 2,
  // every 2nd from 1), so the index image is kept whole.
  std::vector<GifPixelType> indices((size_t)width * height);
  static const int kStart[4] = {0, 4, 2, 1};
  static const int kStep[4] = {8, 8, 4, 2};
  for (int pass = 0; pass < 4; ++pass) {
    for (int y = kStart[pass]; y < height; y += kStep[pass]) {
      if (DGifGetLine(gif, &indices[(size_t)y * width], width) == GIF_ERROR) {
        out.error = gif_error(in, gif->Error, "image data");
        return out;
      }
    }
  }
  sink.begin(format);
  for (int y = 0; y < height; ++y) {
    expand(&indices[(size_t)y * width]);
    sink.row(y, rgb.data());
  }
  return out;
}

}  // namespace hm
