#include "jpeg_sparse_idct.hpp"

#include <jpegint.h>  // struct jpeg_inverse_dct: the IDCT method pointers we wrap

#include <stdlib.h>
#include <string.h>

#include <algorithm>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HM_HAVE_AVX2_IDCT 1
#define HM_TARGET_AVX2 __attribute__((target("avx2")))
#endif

namespace hm {

namespace {

/// jidctint.c's fixed-point constants, FIX(x) = round(x * 2^13).
constexpr int64_t F_0_298 = 2446, F_0_390 = 3196, F_0_541 = 4433, F_0_765 = 6270,
                  F_0_899 = 7373, F_1_175 = 9633, F_1_501 = 12299, F_1_847 = 15137,
                  F_1_961 = 16069, F_2_053 = 16819, F_2_562 = 20995, F_3_072 = 25172;
constexpr int kPass1Shift = 11;  ///< CONST_BITS - PASS1_BITS
constexpr int kPass2Shift = 18;  ///< CONST_BITS + PASS1_BITS + 3

/// Bounds inside which libjpeg's C and SIMD ISLOW transforms compute the same
/// exact integer sums: dequantized inputs whose pairwise 16-bit sums cannot
/// wrap, first-pass outputs likewise (no saturation, no wrap in the second
/// pass), and outputs that the C range-limit table clamps as the SIMD does.
constexpr int kMaxInput = 8191;
constexpr int kMaxMiddle = 16383;
constexpr int kMinOutput = -384, kMaxOutput = 383;

/// Whether a block read on these rows is transformed on them alone: on one
/// or two; on more, libjpeg's whole SIMD transform costs less.
inline bool few_rows(unsigned mask) {
  const unsigned rest = mask & (mask - 1u);
  return (rest & (rest - 1u)) == 0;
}

/// Whether the hook pays for a component: every block then costs a call
/// through it (about 20 cycles here, beside libjpeg's 65 for a whole AVX2
/// transform), a skipped block saves the transform and a block transformed
/// on its rows about 25 (the row transform, batched, costs some 20).
bool hook_pays(const PlaneReads& reads, bool partial) {
  constexpr long kSkipGain = 65, kPartialGain = 25, kHookCost = 20;
  long skipped_rows = 0, partial_rows = 0, whole_rows = 0, read_cols = 0;
  for (const uint8_t mask : reads.rows) {
    if (mask == 0) {
      ++skipped_rows;
    } else if (partial && few_rows(mask)) {
      ++partial_rows;
    } else {
      ++whole_rows;
    }
  }
  for (const uint8_t c : reads.cols) read_cols += c != 0;
  const long cols = (long)reads.cols.size();
  const long skipped = skipped_rows * cols + (partial_rows + whole_rows) * (cols - read_cols);
  const long gain = kSkipGain * skipped + kPartialGain * partial_rows * read_cols -
                    kHookCost * whole_rows * read_cols;
  return gain > 0;
}

/// One 1-D pass of jidctint.c before its descale: out[r] for outputs r of the
/// inputs in[k] (frequency k), in the reference's butterfly.
void islow_1d(const int64_t in[8], int64_t out[8]) {
  const int64_t z1 = (in[2] + in[6]) * F_0_541;
  const int64_t even2 = z1 - in[6] * F_1_847;
  const int64_t even3 = z1 + in[2] * F_0_765;
  const int64_t even0 = (in[0] + in[4]) * 8192;
  const int64_t even1 = (in[0] - in[4]) * 8192;
  const int64_t t10 = even0 + even3, t13 = even0 - even3;
  const int64_t t11 = even1 + even2, t12 = even1 - even2;
  int64_t o0 = in[7], o1 = in[5], o2 = in[3], o3 = in[1];
  int64_t y1 = o0 + o3, y2 = o1 + o2, y3 = o0 + o2, y4 = o1 + o3;
  const int64_t z5 = (y3 + y4) * F_1_175;
  o0 *= F_0_298;
  o1 *= F_2_053;
  o2 *= F_3_072;
  o3 *= F_1_501;
  y1 *= -F_0_899;
  y2 *= -F_2_562;
  y3 = y3 * -F_1_961 + z5;
  y4 = y4 * -F_0_390 + z5;
  o0 += y1 + y3;
  o1 += y2 + y4;
  o2 += y2 + y3;
  o3 += y1 + y4;
  out[0] = t10 + o3;
  out[7] = t10 - o3;
  out[1] = t11 + o2;
  out[6] = t11 - o2;
  out[2] = t12 + o1;
  out[5] = t12 - o1;
  out[3] = t13 + o0;
  out[4] = t13 - o0;
}

/// The butterfly is linear with integer constants, so output r of a pass is
/// exactly sum_k m[r][k] in[k]: the same integers, computed row by row.
struct Basis {
  int32_t m[8][8];
  Basis() {
    for (int k = 0; k < 8; ++k) {
      int64_t in[8] = {}, out[8];
      in[k] = 1;
      islow_1d(in, out);
      for (int r = 0; r < 8; ++r) m[r][k] = (int32_t)out[r];
    }
  }
};

const Basis& basis() {
  static const Basis b;
  return b;
}

inline int64_t descale(int64_t x, int n) { return (x + ((int64_t)1 << (n - 1))) >> n; }

bool idct_rows_scalar(const int16_t* coef, const IslowTable& t, unsigned mask,
                      uint8_t* const* out, unsigned col) {
  for (int i = 0; i < 64; ++i)
    if ((unsigned)std::abs((int)coef[i]) > t.limit[i]) return false;
  const auto& m = basis().m;
  for (int r = 0; r < 8; ++r) {
    if (!(mask >> r & 1)) continue;
    int64_t middle[8];
    for (int c = 0; c < 8; ++c) {
      int64_t s = 0;
      for (int k = 0; k < 8; ++k) s += (int64_t)m[r][k] * (coef[8 * k + c] * t.quant[8 * k + c]);
      middle[c] = descale(s, kPass1Shift);
      if (middle[c] < -kMaxMiddle || middle[c] > kMaxMiddle) return false;
    }
    for (int x = 0; x < 8; ++x) {
      int64_t s = 0;
      for (int j = 0; j < 8; ++j) s += (int64_t)m[x][j] * middle[j];
      const int64_t v = descale(s, kPass2Shift);
      if (v < kMinOutput || v > kMaxOutput) return false;
      out[r][col + x] = (uint8_t)(std::min<int64_t>(std::max<int64_t>(v, -128), 127) + 128);
    }
  }
  return true;
}

#if HM_HAVE_AVX2_IDCT
const bool kHasAvx2 = __builtin_cpu_supports("avx2");

/// Pair constants for vpmaddwd: pass 1 multiplies the pairs (in[2i], in[2i+1])
/// of every column by (m[r][2i], m[r][2i+1]); pass 2 the pairs of one row's
/// middle values by (m[x][2i], m[x][2i+1]) for output column x in lane x.
struct PairConstants {
  __m256i pass1[8][4];
  __m256i pass2[4];
  HM_TARGET_AVX2 PairConstants() {
    const auto& m = basis().m;
    auto pair = [](int32_t lo, int32_t hi) {
      return (int32_t)((uint32_t)(uint16_t)lo | (uint32_t)hi << 16);
    };
    for (int r = 0; r < 8; ++r)
      for (int i = 0; i < 4; ++i)
        pass1[r][i] = _mm256_set1_epi32(pair(m[r][2 * i], m[r][2 * i + 1]));
    for (int i = 0; i < 4; ++i) {
      int32_t lanes[8];
      for (int x = 0; x < 8; ++x) lanes[x] = pair(m[x][2 * i], m[x][2 * i + 1]);
      pass2[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lanes));
    }
  }
};

const PairConstants& pair_constants() {
  static const PairConstants c;
  return c;
}

/// Row r of a block whose dequantized column pairs are in `pairs`: written to
/// out, and the lanes of `bad` set where a bound is crossed.
HM_TARGET_AVX2 inline void row_avx2(const __m256i pairs[4], const PairConstants& k, int r,
                                    uint8_t* out, __m256i& bad) {
  // Pass 1, row r of every column: lane c = middle value of column c.
  __m256i s = _mm256_madd_epi16(pairs[0], k.pass1[r][0]);
  s = _mm256_add_epi32(s, _mm256_madd_epi16(pairs[1], k.pass1[r][1]));
  s = _mm256_add_epi32(s, _mm256_madd_epi16(pairs[2], k.pass1[r][2]));
  s = _mm256_add_epi32(s, _mm256_madd_epi16(pairs[3], k.pass1[r][3]));
  const __m256i middle =
      _mm256_srai_epi32(_mm256_add_epi32(s, _mm256_set1_epi32(1 << (kPass1Shift - 1))), kPass1Shift);
  bad = _mm256_or_si256(bad, _mm256_cmpgt_epi32(_mm256_abs_epi32(middle), _mm256_set1_epi32(kMaxMiddle)));
  // Pass 2: each pair of middle values to every lane, lane x = output x.
  const __m256i words = _mm256_packs_epi32(middle, middle);  // (0 1 2 3)x2 | (4 5 6 7)x2
  __m256i v = _mm256_madd_epi16(_mm256_permutevar8x32_epi32(words, _mm256_set1_epi32(0)), k.pass2[0]);
  v = _mm256_add_epi32(v, _mm256_madd_epi16(_mm256_permutevar8x32_epi32(words, _mm256_set1_epi32(1)), k.pass2[1]));
  v = _mm256_add_epi32(v, _mm256_madd_epi16(_mm256_permutevar8x32_epi32(words, _mm256_set1_epi32(4)), k.pass2[2]));
  v = _mm256_add_epi32(v, _mm256_madd_epi16(_mm256_permutevar8x32_epi32(words, _mm256_set1_epi32(5)), k.pass2[3]));
  v = _mm256_srai_epi32(_mm256_add_epi32(v, _mm256_set1_epi32(1 << (kPass2Shift - 1))), kPass2Shift);
  // Outside [kMinOutput, kMaxOutput]: v - kMinOutput above the span, unsigned.
  const __m256i shifted = _mm256_sub_epi32(v, _mm256_set1_epi32(kMinOutput));
  const __m256i span = _mm256_set1_epi32(kMaxOutput - kMinOutput);
  const __m256i inside = _mm256_cmpeq_epi32(_mm256_max_epu32(shifted, span), span);
  bad = _mm256_or_si256(bad, _mm256_andnot_si256(inside, _mm256_set1_epi32(-1)));
  // Saturate to [-128, 127] as libjpeg's SIMD does, centre, gather the 8 bytes.
  const __m256i w16 = _mm256_packs_epi32(v, v);
  const __m256i b8 = _mm256_xor_si256(_mm256_packs_epi16(w16, w16), _mm256_set1_epi8((char)0x80));
  const __m256i low = _mm256_permutevar8x32_epi32(b8, _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(low));
}

/// The rows of one block; false where a bound is crossed (rows then partly written).
HM_TARGET_AVX2 inline bool block_avx2(const int16_t* coef, const IslowTable& t, unsigned mask,
                                      uint8_t* const* out, unsigned col, const PairConstants& k) {
  const __m256i interleave = _mm256_setr_epi8(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15,
                                              0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
  // Rows 2i and 2i + 1 per register: magnitudes within the limits, then the
  // dequantized pairs (row 2i, row 2i + 1) of each column c in lane c.
  __m256i pairs[4];
  __m256i over = _mm256_setzero_si256();
  for (int i = 0; i < 4; ++i) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(coef + 16 * i));
    const __m256i limit = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.limit + 16 * i));
    over = _mm256_or_si256(over, _mm256_subs_epu16(_mm256_abs_epi16(c), limit));
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.quant + 16 * i));
    const __m256i d = _mm256_permute4x64_epi64(_mm256_mullo_epi16(c, q), 0xD8);
    pairs[i] = _mm256_shuffle_epi8(d, interleave);
  }
  if (!_mm256_testz_si256(over, over)) return false;
  __m256i bad = _mm256_setzero_si256();
  const int r0 = __builtin_ctz(mask);
  row_avx2(pairs, k, r0, out[r0] + col, bad);
  const unsigned rest = mask & (mask - 1);
  if (rest) {
    const int r1 = __builtin_ctz(rest);
    row_avx2(pairs, k, r1, out[r1] + col, bad);
  }
  return _mm256_testz_si256(bad, bad);
}

HM_TARGET_AVX2 bool idct_rows_avx2(const int16_t* coef, const IslowTable& t, unsigned mask,
                                   uint8_t* const* out, unsigned col) {
  const PairConstants& k = pair_constants();
  // block_avx2 takes two rows at a time.
  for (unsigned m = mask; m; m &= m - 1) {
    const unsigned one = m & (0u - m);
    if (!block_avx2(coef, t, one, out, col, k)) return false;
  }
  return true;
}

/// Blocks one after another in a tight loop, so that their dependency chains
/// overlap; ok[i] = whether block i came out exact.
HM_TARGET_AVX2 void batch_avx2(const int16_t (*coef)[64], const SparseIdctBlock* blocks, int n,
                               bool* ok) {
  const PairConstants& k = pair_constants();
  for (int i = 0; i < n; ++i) {
    const SparseIdctBlock& b = blocks[i];
    ok[i] = block_avx2(coef[i], *b.table, b.mask, b.out, b.col, k);
  }
}
#endif

}  // namespace

bool sparse_idct_kernel_supported(SparseIdctKernel kernel) {
#if HM_HAVE_AVX2_IDCT
  if (kernel == SparseIdctKernel::Avx2) return kHasAvx2;
#endif
  return kernel == SparseIdctKernel::Scalar;
}

SparseIdctKernel sparse_idct_kernel_best() {
  return sparse_idct_kernel_supported(SparseIdctKernel::Avx2) ? SparseIdctKernel::Avx2
                                                              : SparseIdctKernel::Scalar;
}

void IslowTable::set(const int16_t* dct_table) {
  for (int i = 0; i < 64; ++i) {
    quant[i] = dct_table[i];
    const int q = std::abs((int)dct_table[i]);
    limit[i] = (uint16_t)(q == 0 ? 0xffff : kMaxInput / q);
  }
}

bool idct_islow_rows(const int16_t* coef, const IslowTable& table, unsigned row_mask,
                     uint8_t* const* out_rows, unsigned out_col, SparseIdctKernel kernel) {
  row_mask &= 0xff;
#if HM_HAVE_AVX2_IDCT
  if (kernel == SparseIdctKernel::Avx2 && kHasAvx2)
    return idct_rows_avx2(coef, table, row_mask, out_rows, out_col);
#endif
  (void)kernel;
  return idct_rows_scalar(coef, table, row_mask, out_rows, out_col);
}

void PlaneReads::resize(int block_rows, int block_cols) {
  rows.assign((size_t)std::max(block_rows, 0), 0);
  cols.assign((size_t)std::max(block_cols, 0), 0);
}

bool SparseIdct::install(jpeg_decompress_struct& cinfo, SparseIdctKernel kernel) {
  enabled_ = false;
  queued_ = 0;
  counts_ = Counts{};
  if (cinfo.idct == nullptr || reads_.size() != (size_t)cinfo.num_components ||
      !sparse_idct_kernel_supported(kernel))
    return false;
  for (int ci = 0; ci < cinfo.num_components; ++ci)
    if (cinfo.comp_info[ci].DCT_scaled_size != DCTSIZE || cinfo.idct->inverse_DCT[ci] == nullptr)
      return false;
  cinfo_ = &cinfo;
  partial_ = kernel != SparseIdctKernel::Scalar && cinfo.dct_method == JDCT_ISLOW;
  comps_.assign((size_t)cinfo.num_components, Component{});
  bool hooked = false;
  for (int ci = 0; ci < cinfo.num_components; ++ci) {
    // Components whose reads spare little keep libjpeg's transform, uncalled by us.
    if (!hook_pays(reads_[ci], partial_)) continue;
    const jpeg_component_info& comp = cinfo.comp_info[ci];
    comps_[ci].libjpeg = cinfo.idct->inverse_DCT[ci];
    if (partial_) comps_[ci].table.set(static_cast<const int16_t*>(comp.dct_table));
    comps_[ci].rows_per_imcu = comp.v_samp_factor * DCTSIZE;
    cinfo.idct->inverse_DCT[ci] = &SparseIdct::hook;
    hooked = true;
  }
  if (hooked) cinfo.client_data = this;
  return hooked;
}

void SparseIdct::hook(j_decompress_ptr cinfo, jpeg_component_info* compptr, JCOEFPTR coef,
                      JSAMPARRAY output_buf, JDIMENSION output_col) {
  auto* self = static_cast<SparseIdct*>(cinfo->client_data);
  const int ci = compptr->component_index;
  if (self->enabled_) {
    // libjpeg passes a pointer into this read's row array, at the block's first row.
    const long row =
        (long)self->imcu_row_ * self->comps_[ci].rows_per_imcu + (output_buf - self->arrays_[ci]);
    const PlaneReads& reads = self->reads_[ci];
    const size_t block_row = (size_t)row >> 3, block_col = (size_t)output_col >> 3;
    if (row >= 0 && block_row < reads.rows.size() && block_col < reads.cols.size()) {
      const unsigned mask = reads.rows[block_row];
      if (mask == 0 || reads.cols[block_col] == 0) {
        ++self->counts_.skipped;
        return;
      }
      if (self->partial_ && few_rows(mask)) {
        // libjpeg reuses its coefficient buffer: queue a copy.
        memcpy(self->coef_[self->queued_], coef, sizeof(self->coef_[0]));
        self->pending_[self->queued_++] =
            SparseIdctBlock{&self->comps_[ci].table, output_buf, output_col, mask, ci};
        if (self->queued_ == kBatch) self->flush();
        return;
      }
    }
  }
  ++self->counts_.whole;
  self->comps_[ci].libjpeg(cinfo, compptr, coef, output_buf, output_col);
}

void SparseIdct::flush() {
  const int n = queued_;
  queued_ = 0;
  if (n == 0) return;
  bool ok[kBatch];
#if HM_HAVE_AVX2_IDCT
  batch_avx2(coef_, pending_, n, ok);
#else
  for (int i = 0; i < n; ++i) ok[i] = false;
#endif
  for (int i = 0; i < n; ++i) {
    const SparseIdctBlock& p = pending_[i];
    if (ok[i]) {
      ++counts_.partial;
      continue;
    }
    ++counts_.whole;  // outside the exact range: libjpeg's own, over any rows written
    comps_[p.component].libjpeg(cinfo_, &cinfo_->comp_info[p.component], coef_[i], p.out, p.col);
  }
}

}  // namespace hm
