#include "jpeg_raw.hpp"

#include <algorithm>

#include "gather_cpu.hpp"
#include "simd.hpp"

namespace hm {

namespace {

/// Chroma sampling relative to luma.
enum class Upsampling { H1V1, H2V1, H2V2 };

/// libjpeg's fancy upsampling, written per output column x of a chroma row
/// whose real width is dw: the output is (3 a + b + bias) >> shift, with
/// a = column sum at index c (the nearer input) and b at index cn (the
/// neighbour that side, or c itself at the edges). For H2V2 a column sum is
/// 3 near + far (the nearer and the farther input row); otherwise it is the
/// input sample itself. These are jdsample.c's h2v1/h2v2_fancy_upsample.
struct ColumnTap {
  int c;
  int cn;
  int bias;
};

ColumnTap column_tap(Upsampling mode, int x, int dw) {
  if (mode == Upsampling::H1V1) return ColumnTap{x, x, 2};  // (4 a + 2) >> 2 = a
  const int c = x >> 1;
  const bool right = (x & 1) != 0;
  const int cn = right ? std::min(c + 1, dw - 1) : std::max(c - 1, 0);
  if (mode == Upsampling::H2V1) return ColumnTap{c, cn, right ? 2 : 1};
  return ColumnTap{c, cn, right ? 7 : 8};
}

int tap_shift(Upsampling mode) { return mode == Upsampling::H2V2 ? 4 : 2; }

/// JPEG YCbCr to RGB exactly as libjpeg does (jdcolor.c): 16-bit fixed point,
/// FIX(x) = round(x * 65536), half added before the arithmetic shift, clamped.
HM_INLINE uint32_t ycc_to_rgb(int y, int cb, int cr) {
  constexpr int kHalf = 1 << 15;
  const int dcb = cb - 128;
  const int dcr = cr - 128;
  int r = y + ((91881 * dcr + kHalf) >> 16);                // FIX(1.40200)
  int g = y + ((-22554 * dcb - 46802 * dcr + kHalf) >> 16);  // FIX(0.34414), FIX(0.71414)
  int b = y + ((116130 * dcb + kHalf) >> 16);               // FIX(1.77200)
  r = r < 0 ? 0 : r > 255 ? 255 : r;
  g = g < 0 ? 0 : g > 255 ? 255 : g;
  b = b < 0 ? 0 : b > 255 ? 255 : b;
  return (uint32_t)r | (uint32_t)g << 8 | (uint32_t)b << 16;
}

/// The two chroma rows that one output row reads, per component.
struct ChromaRows {
  const uint8_t* near[2];
  const uint8_t* far[2];
};

HM_INLINE int column_sum(Upsampling mode, const uint8_t* near, const uint8_t* far, int i) {
  return mode == Upsampling::H2V2 ? 3 * near[i] + far[i] : near[i];
}

/// RGB of pixel x, directly from the formulas (the grey check's path).
uint32_t pixel_rgb(Upsampling mode, const uint8_t* luma, const ChromaRows& rows, int x, int dw) {
  const ColumnTap t = column_tap(mode, x, dw);
  const int shift = tap_shift(mode);
  int chroma[2];
  for (int k = 0; k < 2; ++k) {
    const int a = column_sum(mode, rows.near[k], rows.far[k], t.c);
    const int b = column_sum(mode, rows.near[k], rows.far[k], t.cn);
    chroma[k] = (3 * a + b + t.bias) >> shift;
  }
  return ycc_to_rgb(luma[x], chroma[0], chroma[1]);
}

/// Whether any pixel of the row has R, G, B not all equal. Rows whose chroma
/// is 128 throughout are grey without converting a pixel.
bool row_has_colour(Upsampling mode, const uint8_t* luma, const ChromaRows& rows, int width,
                    int dw) {
  bool neutral = true;
  for (int k = 0; k < 2 && neutral; ++k)
    for (int i = 0; i < dw && neutral; ++i)
      neutral = rows.near[k][i] == 128 && rows.far[k][i] == 128;
  if (neutral) return false;
  for (int x = 0; x < width; ++x) {
    const uint32_t v = pixel_rgb(mode, luma, rows, x, dw);
    if (((v ^ (v >> 8)) & 0xff) || ((v ^ (v >> 16)) & 0xff)) return true;
  }
  return false;
}

/// One chroma component of an output row, upsampled to full width: out[x]
/// for x < 2 dw (H2V1, H2V2) or dw (H1V1). Column sums first, then both
/// outputs of each input column (column_tap's formulas; the edges take the
/// sample itself as their missing neighbour).
HM_INLINE void upsample_row(Upsampling mode, const uint8_t* near, const uint8_t* far, int dw,
                            int32_t* colsum, int32_t* out) {
  if (mode == Upsampling::H1V1) {
    for (int i = 0; i < dw; ++i) out[i] = near[i];
    return;
  }
  for (int i = 0; i < dw; ++i) colsum[i] = column_sum(mode, near, far, i);
  const int shift = tap_shift(mode);
  const int left_bias = mode == Upsampling::H2V2 ? 8 : 1;
  const int right_bias = mode == Upsampling::H2V2 ? 7 : 2;
  out[0] = (4 * colsum[0] + left_bias) >> shift;
  out[1] = (3 * colsum[0] + colsum[1] + right_bias) >> shift;
  for (int c = 1; c + 1 < dw; ++c) {
    const int t = 3 * colsum[c];
    out[2 * c] = (t + colsum[c - 1] + left_bias) >> shift;
    out[2 * c + 1] = (t + colsum[c + 1] + right_bias) >> shift;
  }
  out[2 * dw - 2] = (3 * colsum[dw - 1] + colsum[dw - 2] + left_bias) >> shift;
  out[2 * dw - 1] = (4 * colsum[dw - 1] + right_bias) >> shift;
}

/// RGB of the n selected columns: the luma row widened and both chroma rows
/// upsampled whole (vector loops), the selected columns gathered, then the
/// conversion for all of them at once. scratch holds width + 5 dw values.
HM_VECTOR_CLONES
void selected_rgb(Upsampling mode, const uint8_t* luma, const ChromaRows& rows, const int* cols,
                  int n, int width, int dw, int32_t* values, int32_t* scratch, uint32_t* rgb) {
  int32_t* wide = scratch;
  int32_t* colsum = wide + width;
  int32_t* up[2] = {colsum + dw, colsum + 3 * dw};
  for (int x = 0; x < width; ++x) wide[x] = luma[x];
  for (int k = 0; k < 2; ++k) upsample_row(mode, rows.near[k], rows.far[k], dw, colsum, up[k]);
  uint32_t* yv = reinterpret_cast<uint32_t*>(values);
  uint32_t* cb = yv + n;
  uint32_t* cr = yv + 2 * n;
  gather_words_cpu(wide, cols, n, yv);
  gather_words_cpu(up[0], cols, n, cb);
  gather_words_cpu(up[1], cols, n, cr);
  for (int j = 0; j < n; ++j) rgb[j] = ycc_to_rgb((int)yv[j], (int)cb[j], (int)cr[j]);
}

}  // namespace

bool jpeg_raw_eligible(const jpeg_decompress_struct& cinfo) {
  if (cinfo.jpeg_color_space != JCS_YCbCr || cinfo.num_components != 3) return false;
  const jpeg_component_info* comp = cinfo.comp_info;
  for (int ci = 1; ci < 3; ++ci)
    if (comp[ci].h_samp_factor != 1 || comp[ci].v_samp_factor != 1) return false;
  const int h = comp[0].h_samp_factor;
  const int v = comp[0].v_samp_factor;
  if (!((h == 1 && v == 1) || (h == 2 && v == 1) || (h == 2 && v == 2))) return false;
  // libjpeg replicates instead of filtering when the chroma is 2 samples wide or less.
  return h == 1 || (cinfo.image_width + 1) / 2 > 2;
}

void read_jpeg_raw_selected(jpeg_decompress_struct& cinfo, const PixelSelection& selection,
                            PixelSink& sink, JpegRawBuffers& buffers) {
  cinfo.raw_data_out = TRUE;
  jpeg_start_decompress(&cinfo);
  const int width = (int)cinfo.image_width;
  const int height = (int)cinfo.image_height;
  const jpeg_component_info* comp = cinfo.comp_info;
  const Upsampling mode = comp[0].h_samp_factor == 1   ? Upsampling::H1V1
                          : comp[0].v_samp_factor == 1 ? Upsampling::H2V1
                                                       : Upsampling::H2V2;
  const int lines = cinfo.max_v_samp_factor * DCTSIZE;  // image rows per iMCU row
  const int imcu_rows = (height + lines - 1) / lines;
  const int dw = (int)comp[1].downsampled_width;
  const int dh = (int)comp[1].downsampled_height;

  // Three iMCU rows of planes: filtering the rows of iMCU k reads the last
  // chroma row of k - 1 and the first of k + 1.
  size_t plane_size[3], plane_stride[3];
  int plane_rows[3];
  size_t slot_size = 0;
  for (int ci = 0; ci < 3; ++ci) {
    plane_stride[ci] = (size_t)comp[ci].width_in_blocks * DCTSIZE;
    plane_rows[ci] = comp[ci].v_samp_factor * DCTSIZE;
    plane_size[ci] = plane_stride[ci] * plane_rows[ci];
    slot_size += plane_size[ci];
  }
  buffers.planes.resize(3 * slot_size);
  buffers.pointers.resize((size_t)3 * (plane_rows[0] + plane_rows[1] + plane_rows[2]));
  auto plane = [&](int slot, int ci) {
    size_t offset = (size_t)slot * slot_size;
    for (int k = 0; k < ci; ++k) offset += plane_size[k];
    return buffers.planes.data() + offset;
  };
  JSAMPARRAY arrays[3][3];
  {
    JSAMPROW* p = buffers.pointers.data();
    for (int slot = 0; slot < 3; ++slot)
      for (int ci = 0; ci < 3; ++ci) {
        arrays[slot][ci] = p;
        for (int r = 0; r < plane_rows[ci]; ++r) *p++ = plane(slot, ci) + r * plane_stride[ci];
      }
  }
  auto luma_row = [&](int y) {
    return plane((y / lines) % 3, 0) + (size_t)(y % lines) * plane_stride[0];
  };
  auto chroma_row = [&](int ci, int r) {
    r = std::min(std::max(r, 0), dh - 1);  // libjpeg repeats the edge rows
    return plane((r / DCTSIZE) % 3, ci) + (size_t)(r % DCTSIZE) * plane_stride[ci];
  };
  auto rows_for = [&](int y) {
    ChromaRows rows;
    for (int k = 0; k < 2; ++k) {
      if (mode == Upsampling::H2V2) {
        const int r = y >> 1;
        rows.near[k] = chroma_row(1 + k, r);
        rows.far[k] = chroma_row(1 + k, (y & 1) ? r + 1 : r - 1);
      } else {
        rows.near[k] = rows.far[k] = chroma_row(1 + k, y);
      }
    }
    return rows;
  };

  const int n = (int)selection.cols.size();
  buffers.values.resize((size_t)3 * n);
  buffers.scratch.resize((size_t)width + 5 * dw);
  buffers.rgb.resize(n);

  bool maybe_grey = true;
  size_t next_selected = 0;
  auto emit_imcu = [&](int k) {
    const int y_end = std::min((k + 1) * lines, height);
    for (int y = k * lines; y < y_end; ++y) {
      const bool selected =
          next_selected < selection.rows.size() && selection.rows[next_selected] == y;
      if (!selected && !maybe_grey) continue;
      const uint8_t* luma = luma_row(y);
      const ChromaRows rows = rows_for(y);
      if (maybe_grey && row_has_colour(mode, luma, rows, width, dw)) {
        maybe_grey = false;
        sink.colour_seen();
      }
      if (!selected) continue;
      ++next_selected;
      selected_rgb(mode, luma, rows, selection.cols.data(), n, width, dw, buffers.values.data(),
                   buffers.scratch.data(), buffers.rgb.data());
      sink.selected_row(y, buffers.rgb.data());
    }
  };
  for (int k = 0; k < imcu_rows; ++k) {
    jpeg_read_raw_data(&cinfo, arrays[k % 3], (JDIMENSION)lines);
    if (k > 0) emit_imcu(k - 1);
  }
  emit_imcu(imcu_rows - 1);
  sink.end_selected(maybe_grey);
}

}  // namespace hm
