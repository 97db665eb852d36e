// WebP decoding with libwebp, matching ImageMagick 6.9.11's pixels (the reference's WebP path).
//
// Checked against `convert FILE pnm:-` (ImageMagick linked with the same libwebp 1.2.4):
// - lossy and lossless stills: libwebp's default decode (fancy upsampling, no dithering);
// - with alpha: the stored RGB under every pixel, transparent ones included (libwebp's
//   non-premultiplied RGB output equals ImageMagick's RGBA decode with the alpha dropped);
// - animated: ImageMagick's first image is the first frame placed at its offset on a canvas of
//   the VP8X canvas size, everything outside the frame black (transparent black with the alpha
//   dropped); the ANIM background colour is not used, and the first frame is not blended
//   with anything. We do exactly that, reading only the first frame.
// Stills are decoded whole (libwebp has no row-by-row output in its public API); the buffer
// is bounded by the pixel limit, which is checked from the header before anything is decoded.
#include <string.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include <memory>
#include <string>
#include <vector>

#include "decode.hpp"

namespace hm {

namespace {

uint32_t read_u24(const uint8_t* p) { return p[0] | p[1] << 8 | (uint32_t)p[2] << 16; }

/// Reads the canvas size from a VP8X chunk directly, so that a huge canvas is refused even when
/// the rest of the file is missing or broken.
bool vp8x_canvas(const uint8_t* data, size_t size, uint64_t* width, uint64_t* height) {
  if (size < 30 || memcmp(data + 12, "VP8X", 4) != 0) return false;
  *width = (uint64_t)read_u24(data + 24) + 1;
  *height = (uint64_t)read_u24(data + 27) + 1;
  return true;
}

const char* status_text(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OK: return "ok";
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "not enough data";
  }
  return "unknown error";
}

std::string webp_error(VP8StatusCode status, const char* what) {
  if (status == VP8_STATUS_NOT_ENOUGH_DATA)
    return std::string("decode: truncated WebP file (") + what + ")";
  if (status == VP8_STATUS_UNSUPPORTED_FEATURE)
    return std::string("unsupported: WebP feature not supported by libwebp (") + what + ")";
  return std::string("decode: corrupt WebP file (") + what + ": " + status_text(status) + ")";
}

/// Decodes one VP8/VP8L bitstream (with its ALPH chunk, if any) to packed RGB.
VP8StatusCode decode_rgb(const uint8_t* data, size_t size, int width, int height,
                         std::vector<uint8_t>& rgb) {
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return VP8_STATUS_INVALID_PARAM;
  rgb.assign((size_t)width * height * 3, 0);
  config.output.colorspace = MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = rgb.data();
  config.output.u.RGBA.stride = width * 3;
  config.output.u.RGBA.size = rgb.size();
  const VP8StatusCode status = WebPDecode(data, size, &config);
  WebPFreeDecBuffer(&config.output);
  if (status == VP8_STATUS_OK && (config.output.width != width || config.output.height != height))
    return VP8_STATUS_BITSTREAM_ERROR;
  return status;
}

struct DemuxDeleter {
  void operator()(WebPDemuxer* demux) const { WebPDemuxDelete(demux); }
};

}  // namespace

DecodeOutcome decode_webp(const uint8_t* data, size_t size, const DecodeOptions& options,
                          PixelSink& sink) {
  DecodeOutcome out;
  out.format = ImageFormat::Webp;
  if (data == nullptr || size < 12) {
    out.error = "decode: truncated WebP file (header)";
    return out;
  }

  uint64_t canvas_w = 0, canvas_h = 0;
  if (vp8x_canvas(data, size, &canvas_w, &canvas_h)) {
    out.width = (int)canvas_w;
    out.height = (int)canvas_h;
    if (std::string limit = check_pixel_limit(canvas_w, canvas_h, options); !limit.empty()) {
      out.error = std::move(limit);
      return out;
    }
  }

  WebPBitstreamFeatures features;
  VP8StatusCode status = WebPGetFeatures(data, size, &features);
  if (status != VP8_STATUS_OK) {
    out.error = webp_error(status, "header");
    return out;
  }
  out.width = features.width;
  out.height = features.height;
  if (std::string limit = check_pixel_limit((uint64_t)features.width, (uint64_t)features.height,
                                            options);
      !limit.empty()) {
    out.error = std::move(limit);
    return out;
  }

  PixelFormat format;
  format.width = features.width;
  format.height = features.height;
  format.channels = 3;
  format.detect_grey = true;
  std::vector<uint8_t> rgb;

  if (!features.has_animation) {
    status = decode_rgb(data, size, features.width, features.height, rgb);
    if (status != VP8_STATUS_OK) {
      out.error = webp_error(status, "image data");
      return out;
    }
    sink.begin(format);
    const size_t stride = (size_t)features.width * 3;
    for (int y = 0; y < features.height; ++y) sink.row(y, rgb.data() + stride * y);
    return out;
  }

  // Animated: the first frame on a black canvas (see the file comment).
  WebPData webp_data{data, size};
  std::unique_ptr<WebPDemuxer, DemuxDeleter> demux(WebPDemux(&webp_data));
  if (!demux) {
    // WebPDemux refuses both truncated and malformed files; tell them apart for the message.
    WebPDemuxState state = WEBP_DEMUX_PARSE_ERROR;
    std::unique_ptr<WebPDemuxer, DemuxDeleter> partial(WebPDemuxPartial(&webp_data, &state));
    out.error = state == WEBP_DEMUX_PARSING_HEADER || state == WEBP_DEMUX_PARSED_HEADER
                    ? "decode: truncated animated WebP file"
                    : "decode: corrupt animated WebP file (container)";
    return out;
  }
  const int canvas_width = (int)WebPDemuxGetI(demux.get(), WEBP_FF_CANVAS_WIDTH);
  const int canvas_height = (int)WebPDemuxGetI(demux.get(), WEBP_FF_CANVAS_HEIGHT);
  if (canvas_width != features.width || canvas_height != features.height) {
    out.error = "decode: corrupt animated WebP file (inconsistent canvas size)";
    return out;
  }
  WebPIterator iter;
  if (!WebPDemuxGetFrame(demux.get(), 1, &iter)) {
    out.error = "decode: animated WebP file has no frame";
    return out;
  }
  const int fx = iter.x_offset, fy = iter.y_offset, fw = iter.width, fh = iter.height;
  status = decode_rgb(iter.fragment.bytes, iter.fragment.size, fw, fh, rgb);
  WebPDemuxReleaseIterator(&iter);
  if (status != VP8_STATUS_OK) {
    out.error = webp_error(status, "first frame");
    return out;
  }
  // The demuxer only accepts frames that lie inside the canvas; check again before copying.
  if (fx < 0 || fy < 0 || fw <= 0 || fh <= 0 || (int64_t)fx + fw > canvas_width ||
      (int64_t)fy + fh > canvas_height) {
    out.error = "decode: corrupt animated WebP file (frame outside the canvas)";
    return out;
  }
  std::vector<uint8_t> line((size_t)canvas_width * 3, 0);
  sink.begin(format);
  for (int y = 0; y < canvas_height; ++y) {
    const bool inside = y >= fy && y < fy + fh;
    if (inside) memcpy(&line[(size_t)fx * 3], &rgb[(size_t)(y - fy) * fw * 3], (size_t)fw * 3);
    sink.row(y, line.data());
    if (inside) memset(&line[(size_t)fx * 3], 0, (size_t)fw * 3);
  }
  return out;
}

}  // namespace hm
