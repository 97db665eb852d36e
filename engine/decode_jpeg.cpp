// JPEG through libjpeg-turbo with its default decode (ISLOW IDCT, fancy
// upsampling): byte for byte the pixels ImageMagick gives the reference.
// DecodeMode::Fast instead decodes luma only, scaled down in the DCT domain.
#include <setjmp.h>
#include <stdio.h>

#include <algorithm>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>

#include "decode.hpp"
#include "gather_cpu.hpp"
#include "jpeg_raw.hpp"
#include "luma_cpu.hpp"

namespace hm {

namespace {

/// A progressive JPEG can hold thousands of tiny scans that each cost a full
/// pass over the coefficients; past this many the file is treated as hostile.
/// The same holds for a sequential multi-scan JPEG whose scans repeat (an
/// arithmetic-coded scan of a flat plane takes a few bytes).
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

/// Each scan costs a pass over the coefficients, so files with many tiny
/// scans are cheap to write and slow to read. A sequential file has at most
/// one scan per component; a progressive one rarely more than a few dozen.
void on_progress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (!cinfo->is_decompressor) return;
  const int limit = d->progressive_mode ? kMaxScans : std::max(1, d->num_components);
  if (d->input_scan_number > limit) {
    auto* mgr = reinterpret_cast<ErrorManager*>(cinfo->err);
    snprintf(mgr->error, sizeof(mgr->error), "%s JPEG has more than %d scans",
             d->progressive_mode ? "progressive" : "sequential", limit);
    longjmp(mgr->jump, 1);
  }
}

/// RGBX scanlines for a sink that reads only some rows and columns: once a
/// colour pixel has been seen (which settles the grey rule, usually on the
/// first row), rows nobody reads are skipped with jpeg_skip_scanlines, which
/// spares their colour conversion. Selected rows are delivered as the
/// selected columns' RGB words.
void read_selected_scanlines(jpeg_decompress_struct& cinfo, const PixelSelection& selection,
                             JSAMPROW row, PixelSink& sink, std::vector<uint32_t>& words) {
  const int width = (int)cinfo.output_width;
  const int height = (int)cinfo.output_height;
  const std::vector<int>& wanted = selection.rows;
  words.resize(selection.cols.size());
  bool maybe_grey = true;
  size_t next = 0;
  while (cinfo.output_scanline < cinfo.output_height) {
    const int y = (int)cinfo.output_scanline;
    const bool selected = next < wanted.size() && wanted[next] == y;
    if (!selected && !maybe_grey) {
      const int target = next < wanted.size() ? wanted[next] : height;
      jpeg_skip_scanlines(&cinfo, (JDIMENSION)(target - y));
      continue;
    }
    jpeg_read_scanlines(&cinfo, &row, 1);
    if (maybe_grey && !pdq::row_is_grey_cpu(row, pdq::PixelLayout::Rgbx, width)) {
      maybe_grey = false;
      sink.colour_seen();
    }
    if (!selected) continue;
    gather_words_cpu(row, selection.cols.data(), (int)selection.cols.size(), words.data());
    for (uint32_t& w : words) w &= 0xffffff;  // libjpeg fills X with 0xff
    sink.selected_row(y, words.data());
    ++next;
  }
  sink.end_selected(maybe_grey);
}

/// Fast mode, after the header: decode at jpeg_fast_scale's M/8 in the DCT
/// domain (libjpeg's reduced IDCTs) and, for YCbCr, RGB and grey files, the
/// luma plane only: chroma is entropy-decoded but never inverse-transformed,
/// upsampled or converted. CMYK and YCCK keep their inks (libjpeg has no grey
/// output for them). The IDCT stays ISLOW: IFAST (which only applies at 8/8)
/// saved no measurable time on the bundled images and doubled the drift.
/// `format` becomes the scaled image's.
void configure_fast(jpeg_decompress_struct& cinfo, PixelFormat& format) {
  cinfo.scale_num = (unsigned)jpeg_fast_scale((int)cinfo.image_width, (int)cinfo.image_height);
  cinfo.scale_denom = 8;
  if (!format.cmyk) {
    cinfo.out_color_space = JCS_GRAYSCALE;
    format.channels = 1;
  }
  jpeg_calc_output_dimensions(&cinfo);
  format.width = (int)cinfo.output_width;
  format.height = (int)cinfo.output_height;
}

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
  std::vector<JSAMPROW> rows;
  JpegRawBuffers raw;
  if (setjmp(err.jump)) {
    // libjpeg refuses sides above 65500 while it reads the header, before our own check: a
    // header whose size is also above the pixel limit is reported as the limit.
    std::string limit;
    if (err.base.msg_code == JERR_IMAGE_TOO_BIG)
      limit = check_pixel_limit(cinfo.image_width, cinfo.image_height, options);
    out.error = !limit.empty() ? limit : std::string("decode: ") + err.error;
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
  PixelFormat format;
  format.width = (int)cinfo.image_width;
  format.height = (int)cinfo.image_height;
  if (cinfo.num_components == 1) {
    cinfo.out_color_space = JCS_GRAYSCALE;
    format.channels = 1;
  } else if (cmyk) {
    // Raw inks, which the sink converts only where the pre-resize samples.
    cinfo.out_color_space = JCS_CMYK;
    format.channels = 4;
    format.cmyk = true;
  } else {
    // RGB padded to 4 bytes: the same samples as JCS_RGB, aligned for luma.
    cinfo.out_color_space = JCS_EXT_RGBX;
    format.channels = 4;
  }
  const bool fast = options.mode == DecodeMode::Fast;
  if (fast) configure_fast(cinfo, format);
  sink.begin(format);
  // A sink that reads only some pixels (the 512 pre-resize) lets libjpeg
  // skip upsampling and colour conversion everywhere else, where that pays
  // (jpeg_raw_preferred).
  const PixelSelection* selection = sink.selection();
  if (selection && !fast && !options.full_jpeg_decode && jpeg_raw_eligible(cinfo) &&
      jpeg_raw_preferred(cinfo, *selection)) {
    read_jpeg_raw_selected(cinfo, *selection, sink, raw);
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return out;
  }
  jpeg_start_decompress(&cinfo);
  const int width = (int)cinfo.output_width;
  const int comps = cinfo.output_components;

  const int batch = std::max(1, cinfo.rec_outbuf_height);
  const size_t stride = ((size_t)width * comps + 31) & ~(size_t)31;  // keeps every row's offset
  // libjpeg-turbo's SIMD colour conversion writes aligned rows with
  // non-temporal stores, which send them past the cache just before the sink
  // reads them. Rows 4 bytes off alignment take its ordinary stores.
  constexpr size_t kMisalign = 4;
  buffer.resize(stride * batch + 64);
  uint8_t* first_row = buffer.data();
  while ((reinterpret_cast<uintptr_t>(first_row) & 31) != kMisalign) ++first_row;
  rows.resize(batch);
  for (int r = 0; r < batch; ++r) rows[r] = first_row + (size_t)r * stride;
  if (selection && !fast && !options.full_jpeg_decode && format.channels == 4 &&
      !format.cmyk) {
    read_selected_scanlines(cinfo, *selection, rows[0], sink, raw.rgb);
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return out;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    const int y0 = (int)cinfo.output_scanline;
    const int got = (int)jpeg_read_scanlines(&cinfo, rows.data(), batch);
    for (int r = 0; r < got; ++r) sink.row(y0 + r, rows[r]);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return out;
}

}  // namespace hm
