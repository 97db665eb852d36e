// JPEG through libjpeg-turbo with its default decode (ISLOW IDCT, fancy
// upsampling): byte for byte the pixels ImageMagick gives the reference.
#include <setjmp.h>
#include <stdio.h>

#include <algorithm>
#include <vector>

#include <jpeglib.h>

#include "decode.hpp"

namespace hm {

namespace {

/// A progressive JPEG can hold thousands of tiny scans that each cost a full
/// pass over the coefficients; past this many the file is treated as hostile.
constexpr int kMaxScans = 500;
constexpr size_t kMaxWarnings = 4;

struct ErrorManager {
  jpeg_error_mgr base;
  jmp_buf jump;
  std::vector<std::string>* warnings;
  char error[JMSG_LENGTH_MAX];
};

void on_error_exit(j_common_ptr cinfo) {
  auto* mgr = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, mgr->error);
  longjmp(mgr->jump, 1);
}

/// Keeps the first few distinct warnings (corrupt data, premature end)
/// instead of printing them; trace messages are ignored.
void on_emit_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  auto* mgr = reinterpret_cast<ErrorManager*>(cinfo->err);
  cinfo->err->num_warnings++;
  if (mgr->warnings->size() >= kMaxWarnings) return;
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  std::string warning = std::string("decode: ") + text;
  if (std::find(mgr->warnings->begin(), mgr->warnings->end(), warning) == mgr->warnings->end())
    mgr->warnings->push_back(std::move(warning));
}

void on_progress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (cinfo->is_decompressor && d->progressive_mode && d->input_scan_number > kMaxScans) {
    auto* mgr = reinterpret_cast<ErrorManager*>(cinfo->err);
    snprintf(mgr->error, sizeof(mgr->error), "progressive JPEG has more than %d scans",
             kMaxScans);
    longjmp(mgr->jump, 1);
  }
}

/// ImageMagick (Q16) reads a CMYK JPEG as inverted (Adobe) ink values and
/// converts to RGB as (1 - C)(1 - K) in 16-bit quanta, then scales to 8 bits
/// for the PNM; with raw samples s this is round(257 s_c s_k / 255) -> 8 bit.
uint8_t cmyk_channel_to_rgb(unsigned ink, unsigned black) {
  const double q16 = 257.0 * (double)ink * (double)black / 255.0;
  const unsigned q = (unsigned)(q16 + 0.5);
  return (uint8_t)((q + 128) / 257);
}

struct CmykTable {
  uint8_t value[256][256];
  CmykTable() {
    for (unsigned a = 0; a < 256; ++a)
      for (unsigned k = 0; k < 256; ++k) value[a][k] = cmyk_channel_to_rgb(a, k);
  }
};

}  // namespace

DecodeOutcome decode_jpeg(const uint8_t* data, size_t size, const DecodeOptions& options,
                          PixelSink& sink) {
  DecodeOutcome out;
  out.format = ImageFormat::Jpeg;
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = on_error_exit;
  err.base.emit_message = on_emit_message;
  err.warnings = &out.warnings;
  jpeg_progress_mgr progress;
  progress.progress_monitor = on_progress;
  // Everything that must survive a longjmp lives outside this frame's registers.
  std::vector<JSAMPLE> buffer;
  std::vector<uint8_t> rgb;
  std::vector<JSAMPROW> rows;
  if (setjmp(err.jump)) {
    out.error = std::string("decode: ") + err.error;
    jpeg_destroy_decompress(&cinfo);
    return out;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  out.width = (int)cinfo.image_width;
  out.height = (int)cinfo.image_height;
  out.error = check_pixel_limit(cinfo.image_width, cinfo.image_height, options);
  if (!out.ok()) {
    jpeg_destroy_decompress(&cinfo);
    return out;
  }
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  if (cinfo.num_components == 1) {
    cinfo.out_color_space = JCS_GRAYSCALE;
  } else if (cmyk) {
    cinfo.out_color_space = JCS_CMYK;
  } else {
    // RGB padded to 4 bytes: the same samples as JCS_RGB, aligned for luma.
    cinfo.out_color_space = JCS_EXT_RGBX;
  }
  jpeg_start_decompress(&cinfo);
  const int width = (int)cinfo.output_width;
  const int comps = cinfo.output_components;
  PixelFormat format;
  format.width = width;
  format.height = (int)cinfo.output_height;
  format.channels = comps == 1 ? 1 : comps == 4 && !cmyk ? 4 : 3;
  sink.begin(format);

  const int batch = std::max(1, cinfo.rec_outbuf_height);
  const size_t stride = (size_t)width * comps;
  buffer.resize(stride * batch);
  rows.resize(batch);
  for (int r = 0; r < batch; ++r) rows[r] = buffer.data() + (size_t)r * stride;
  static const CmykTable* table = new CmykTable();
  if (cmyk) rgb.resize((size_t)width * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    const int y0 = (int)cinfo.output_scanline;
    const int got = (int)jpeg_read_scanlines(&cinfo, rows.data(), batch);
    for (int r = 0; r < got; ++r) {
      if (!cmyk) {
        sink.row(y0 + r, rows[r]);
        continue;
      }
      const JSAMPLE* p = rows[r];
      for (int x = 0; x < width; ++x, p += 4) {
        rgb[3 * x] = table->value[p[0]][p[3]];
        rgb[3 * x + 1] = table->value[p[1]][p[3]];
        rgb[3 * x + 2] = table->value[p[2]][p[3]];
      }
      sink.row(y0 + r, rgb.data());
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return out;
}

}  // namespace hm
