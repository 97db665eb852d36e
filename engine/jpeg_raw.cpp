#include "jpeg_raw.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "gather_cpu.hpp"
#include "simd.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HM_HAVE_AVX2_EVEN 1
#define HM_TARGET_AVX2 __attribute__((target("avx2")))
#endif

namespace hm {

namespace {

/// Chroma sampling relative to luma.
enum class Upsampling { H1V1, H2V1, H2V2, H1V2 };

HM_INLINE bool horizontal(Upsampling mode) {
  return mode == Upsampling::H2V1 || mode == Upsampling::H2V2;
}

HM_INLINE bool vertical(Upsampling mode) {
  return mode == Upsampling::H2V2 || mode == Upsampling::H1V2;
}

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
  if (!horizontal(mode)) return ColumnTap{x, x, 2};  // (4 a + 2) >> 2 = a
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

/// The two chroma rows that one output row reads, per component. H1V2's
/// vertical filter, (3 near + far + v_bias) >> 2, rounds down towards the
/// row above (v_bias 1, upper output rows) and up towards the row below
/// (v_bias 2): jdsample.c's h1v2_fancy_upsample.
struct ChromaRows {
  const uint8_t* near[2];
  const uint8_t* far[2];
  int v_bias;
};

HM_INLINE int h1v2_chroma(const ChromaRows& rows, int k, int x) {
  return (3 * rows.near[k][x] + rows.far[k][x] + rows.v_bias) >> 2;
}

HM_INLINE int column_sum(Upsampling mode, const uint8_t* near, const uint8_t* far, int i) {
  return mode == Upsampling::H2V2 ? 3 * near[i] + far[i] : near[i];
}

/// RGB of pixel x, directly from the formulas (the grey check's path).
uint32_t pixel_rgb(Upsampling mode, const uint8_t* luma, const ChromaRows& rows, int x, int dw) {
  const ColumnTap t = column_tap(mode, x, dw);
  const int shift = tap_shift(mode);
  int chroma[2];
  for (int k = 0; k < 2; ++k) {
    if (mode == Upsampling::H1V2) {
      chroma[k] = h1v2_chroma(rows, k, x);
      continue;
    }
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

/// Chroma component k of an output row, upsampled to full width: out[x]
/// for x < 2 dw (H2V1, H2V2) or dw (H1V1, H1V2). Column sums first, then both
/// outputs of each input column (column_tap's formulas; the edges take the
/// sample itself as their missing neighbour).
HM_INLINE void upsample_row(Upsampling mode, const ChromaRows& rows, int k, int dw,
                            int32_t* colsum, int32_t* out) {
  const uint8_t* near = rows.near[k];
  const uint8_t* far = rows.far[k];
  if (mode == Upsampling::H1V1) {
    for (int i = 0; i < dw; ++i) out[i] = near[i];
    return;
  }
  if (mode == Upsampling::H1V2) {
    for (int i = 0; i < dw; ++i) out[i] = h1v2_chroma(rows, k, i);
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
  for (int k = 0; k < 2; ++k) upsample_row(mode, rows, k, dw, colsum, up[k]);
  uint32_t* yv = reinterpret_cast<uint32_t*>(values);
  uint32_t* cb = yv + n;
  uint32_t* cr = yv + 2 * n;
  gather_words_cpu(wide, cols, n, yv);
  gather_words_cpu(up[0], cols, n, cb);
  gather_words_cpu(up[1], cols, n, cr);
  for (int j = 0; j < n; ++j) rgb[j] = ycc_to_rgb((int)yv[j], (int)cb[j], (int)cr[j]);
}

/// Whether the selection is the even columns 0, 2, .., 2 (n - 1): with H2
/// chroma each is then the left output of chroma column j (column_tap).
bool even_columns(const std::vector<int>& cols) {
  for (size_t j = 0; j < cols.size(); ++j)
    if (cols[j] != 2 * (int)j) return false;
  return !cols.empty();
}

#if HM_HAVE_AVX2_EVEN
const bool kHasAvx2 = __builtin_cpu_supports("avx2");

HM_TARGET_AVX2 HM_INLINE __m256i widen16(const uint8_t* p) {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

HM_TARGET_AVX2 HM_INLINE __m256i times3(__m256i v) {
  return _mm256_add_epi16(v, _mm256_add_epi16(v, v));
}

/// Chroma at output columns 2j .. 2j + 30 (j >= 1) in 16-bit lanes: column_tap's
/// left taps, (3 a + b + bias) >> shift with a, b the column sums at j and
/// j - 1. The largest intermediate, 16 * 255 + 8, fits 16 bits.
template <bool V2>
HM_TARGET_AVX2 HM_INLINE __m256i even_chroma16(const uint8_t* near, const uint8_t* far, int j) {
  __m256i a = widen16(near + j);
  __m256i b = widen16(near + j - 1);
  if (!V2) return _mm256_srli_epi16(_mm256_add_epi16(_mm256_add_epi16(times3(a), b),
                                                     _mm256_set1_epi16(1)), 2);
  a = _mm256_add_epi16(times3(a), widen16(far + j));
  b = _mm256_add_epi16(times3(b), widen16(far + j - 1));
  return _mm256_srli_epi16(_mm256_add_epi16(_mm256_add_epi16(times3(a), b),
                                            _mm256_set1_epi16(8)), 4);
}

/// (dcb, dcr) . (k_cb, k_cr) + half, >> 16, for the 16 interleaved lanes
/// (lo: pixels 0-3 and 8-11, hi: 4-7 and 12-15), packed back in pixel order.
HM_TARGET_AVX2 HM_INLINE __m256i ycc_term(__m256i lo, __m256i hi, int k_cb, int k_cr) {
  const __m256i k = _mm256_set1_epi32((int)((uint32_t)(uint16_t)k_cr << 16 | (uint16_t)k_cb));
  const __m256i half = _mm256_set1_epi32(1 << 15);
  const __m256i a = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(lo, k), half), 16);
  const __m256i b = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(hi, k), half), 16);
  return _mm256_packs_epi32(a, b);
}

/// ycc_to_rgb for 16 pixels in 16-bit lanes. jdcolor.c's constants exceed 16
/// bits, so each is split into a multiple of 65536, which adds whole dcb or
/// dcr exactly, and a 16-bit rest for vpmaddwd: 91881 = 65536 + 26345,
/// -46802 = -65536 + 18734, 116130 = 2 * 65536 - 14942.
HM_TARGET_AVX2 HM_INLINE void ycc16_to_rgb(__m256i y, __m256i cb, __m256i cr, uint32_t* out) {
  const __m256i dcb = _mm256_sub_epi16(cb, _mm256_set1_epi16(128));
  const __m256i dcr = _mm256_sub_epi16(cr, _mm256_set1_epi16(128));
  const __m256i lo = _mm256_unpacklo_epi16(dcb, dcr);
  const __m256i hi = _mm256_unpackhi_epi16(dcb, dcr);
  __m256i r = _mm256_add_epi16(_mm256_add_epi16(y, dcr), ycc_term(lo, hi, 0, 26345));
  __m256i g = _mm256_add_epi16(_mm256_sub_epi16(y, dcr), ycc_term(lo, hi, -22554, 18734));
  __m256i b = _mm256_add_epi16(_mm256_add_epi16(y, _mm256_add_epi16(dcb, dcb)),
                               ycc_term(lo, hi, -14942, 0));
  const __m256i zero = _mm256_setzero_si256();
  const __m256i top = _mm256_set1_epi16(255);
  r = _mm256_min_epi16(_mm256_max_epi16(r, zero), top);
  g = _mm256_min_epi16(_mm256_max_epi16(g, zero), top);
  b = _mm256_min_epi16(_mm256_max_epi16(b, zero), top);
  const __m256i rg = _mm256_or_si256(r, _mm256_slli_epi16(g, 8));
  const __m256i w0 = _mm256_unpacklo_epi16(rg, b);  // pixels 0-3 | 8-11
  const __m256i w1 = _mm256_unpackhi_epi16(rg, b);  // pixels 4-7 | 12-15
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute2x128_si256(w0, w1, 0x20));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8),
                      _mm256_permute2x128_si256(w0, w1, 0x31));
}

/// Pixels 1 .. n - 1 (n > 16) of an even-column H2 row, 16 at a time; the
/// last block overlaps the one before. Loads stay inside the planes' rows:
/// chroma to column n - 1 < dw, luma to 2n - 1 <= width, which equals width
/// only for odd widths, whose rows are padded to whole blocks.
template <bool V2>
HM_TARGET_AVX2 void even_rgb_avx2(const uint8_t* luma, const ChromaRows& rows, int n,
                                  uint32_t* rgb) {
  const __m256i low_bytes = _mm256_set1_epi16(0xff);
  for (int j = 1;; j += 16) {
    if (j + 16 > n) j = n - 16;
    const __m256i y = _mm256_and_si256(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(luma + 2 * j)), low_bytes);
    ycc16_to_rgb(y, even_chroma16<V2>(rows.near[0], rows.far[0], j),
                 even_chroma16<V2>(rows.near[1], rows.far[1], j), rgb + j);
    if (j + 16 >= n) return;
  }
}
#endif

/// RGB of the selected columns 2j, j < n, of an H2 row.
void even_rgb(JpegRawKernel kernel, Upsampling mode, const uint8_t* luma, const ChromaRows& rows,
              int n, int dw, uint32_t* rgb) {
#if HM_HAVE_AVX2_EVEN
  if (kernel == JpegRawKernel::Avx2 && n > 16) {
    if (mode == Upsampling::H2V2) {
      even_rgb_avx2<true>(luma, rows, n, rgb);
    } else {
      even_rgb_avx2<false>(luma, rows, n, rgb);
    }
    rgb[0] = pixel_rgb(mode, luma, rows, 0, dw);  // its own left neighbour
    return;
  }
#endif
  (void)kernel;
  for (int j = 0; j < n; ++j) rgb[j] = pixel_rgb(mode, luma, rows, 2 * j, dw);
}

/// The plane samples that selected rows read once colour has been seen (the
/// grey check reads every row until then): luma at the selected pixels, chroma
/// where rows_for and column_tap find it.
void mark_plane_reads(const jpeg_decompress_struct& cinfo, Upsampling mode,
                      const PixelSelection& selection, int dw, int dh,
                      std::vector<PlaneReads>& reads) {
  reads.resize(3);
  for (int ci = 0; ci < 3; ++ci)
    reads[ci].resize((int)cinfo.comp_info[ci].height_in_blocks,
                     (int)cinfo.comp_info[ci].width_in_blocks);
  auto chroma_row = [&](int r) {
    r = std::min(std::max(r, 0), dh - 1);
    reads[1].mark_row(r);
    reads[2].mark_row(r);
  };
  auto chroma_col = [&](int c) {
    reads[1].mark_col(c);
    reads[2].mark_col(c);
  };
  for (const int y : selection.rows) {
    reads[0].mark_row(y);
    if (vertical(mode)) {
      chroma_row(y >> 1);
      chroma_row((y & 1) ? (y >> 1) + 1 : (y >> 1) - 1);
    } else {
      chroma_row(y);
    }
  }
  for (const int x : selection.cols) {
    reads[0].mark_col(x);
    const ColumnTap t = column_tap(mode, x, dw);
    chroma_col(t.c);
    chroma_col(t.cn);
  }
}

}  // namespace

bool jpeg_raw_kernel_supported(JpegRawKernel kernel) {
#if HM_HAVE_AVX2_EVEN
  if (kernel == JpegRawKernel::Avx2) return kHasAvx2;
#endif
  return kernel == JpegRawKernel::Scalar;
}

JpegRawKernel jpeg_raw_kernel_best() {
  return jpeg_raw_kernel_supported(JpegRawKernel::Avx2) ? JpegRawKernel::Avx2
                                                        : JpegRawKernel::Scalar;
}

const char* jpeg_raw_kernel_name(JpegRawKernel kernel) {
  return kernel == JpegRawKernel::Avx2 ? "avx2" : "scalar";
}

bool jpeg_raw_preferred(const jpeg_decompress_struct& cinfo, const PixelSelection& selection) {
  // Elsewhere we upsample and convert each selected row at about libjpeg's
  // SIMD cost per row, so this pays when at least half the rows are skipped
  // (4000 x 2667: 29% less decode time; 2000 x 1333: 8% less; 1280 x 853: no
  // gain). The AVX2 kernel for even columns, the pre-resize of 1024- and
  // 1025-wide images, pays at any height (12% less on those golden files).
  if (2 * (uint64_t)selection.rows.size() <= cinfo.image_height) return true;
  return jpeg_raw_kernel_best() == JpegRawKernel::Avx2 && cinfo.comp_info[0].h_samp_factor == 2 &&
         even_columns(selection.cols);
}

bool jpeg_raw_eligible(const jpeg_decompress_struct& cinfo) {
  if (cinfo.jpeg_color_space != JCS_YCbCr || cinfo.num_components != 3) return false;
  const jpeg_component_info* comp = cinfo.comp_info;
  for (int ci = 1; ci < 3; ++ci)
    if (comp[ci].h_samp_factor != 1 || comp[ci].v_samp_factor != 1) return false;
  const int h = comp[0].h_samp_factor;
  const int v = comp[0].v_samp_factor;
  if (!((h == 1 && v == 1) || (h == 2 && v == 1) || (h == 2 && v == 2) || (h == 1 && v == 2)))
    return false;
  // libjpeg replicates instead of filtering when the chroma is 2 samples wide or less.
  return h == 1 || (cinfo.image_width + 1) / 2 > 2;
}

void read_jpeg_raw_selected(jpeg_decompress_struct& cinfo, const PixelSelection& selection,
                            PixelSink& sink, JpegRawBuffers& buffers, JpegRawKernel kernel) {
  if (!jpeg_raw_kernel_supported(kernel))
    throw std::invalid_argument(std::string("jpeg raw: kernel ") + jpeg_raw_kernel_name(kernel) +
                                " is not supported by this CPU");
  cinfo.raw_data_out = TRUE;
  jpeg_start_decompress(&cinfo);
  const int width = (int)cinfo.image_width;
  const int height = (int)cinfo.image_height;
  const jpeg_component_info* comp = cinfo.comp_info;
  const int h = comp[0].h_samp_factor;
  const int v = comp[0].v_samp_factor;
  const Upsampling mode = h == 1 ? (v == 1 ? Upsampling::H1V1 : Upsampling::H1V2)
                                 : (v == 1 ? Upsampling::H2V1 : Upsampling::H2V2);
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
    rows.v_bias = (y & 1) ? 2 : 1;
    for (int k = 0; k < 2; ++k) {
      if (vertical(mode)) {
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
  const bool even = horizontal(mode) && even_columns(selection.cols);
  buffers.values.resize((size_t)3 * n);
  buffers.scratch.resize((size_t)width + 5 * dw);
  buffers.rgb.resize(n);

  mark_plane_reads(cinfo, mode, selection, dw, dh, buffers.idct.plane_reads());
  // The portable raw kernel keeps the IDCT portable too (skipping only).
  buffers.idct.install(cinfo, kernel == JpegRawKernel::Avx2 ? sparse_idct_kernel_best()
                                                            : SparseIdctKernel::Scalar);

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
        buffers.idct.enable();  // only the selected rows are read from here on
      }
      if (!selected) continue;
      ++next_selected;
      if (even) {
        even_rgb(kernel, mode, luma, rows, n, dw, buffers.rgb.data());
        sink.selected_row(y, buffers.rgb.data());
        continue;
      }
      selected_rgb(mode, luma, rows, selection.cols.data(), n, width, dw, buffers.values.data(),
                   buffers.scratch.data(), buffers.rgb.data());
      sink.selected_row(y, buffers.rgb.data());
    }
  };
  for (int k = 0; k < imcu_rows; ++k) {
    buffers.idct.next_read(arrays[k % 3], k);
    jpeg_read_raw_data(&cinfo, arrays[k % 3], (JDIMENSION)lines);
    buffers.idct.finish_read();
    if (k > 0) emit_imcu(k - 1);
  }
  emit_imcu(imcu_rows - 1);
  sink.end_selected(maybe_grey);
}

}  // namespace hm
