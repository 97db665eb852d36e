// libjpeg's inverse DCT for only the samples a reader will look at. The raw
// JPEG path reads the samples of the PDQ pre-resize: one row in six of a
// 12 MP photo, and on photos wider than 4096 px whole 8 x 8 blocks fall
// between the sampled columns. libjpeg transforms every block whole. Hooked
// into its IDCT, this skips the blocks nothing reads and computes blocks read
// on one or two rows on those rows only, exactly as libjpeg's accurate
// integer IDCT (jidctint.c, JDCT_ISLOW, the default) would; every other
// block, and any block where that exactness cannot be promised, goes to
// libjpeg's own transform.
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <jpeglib.h>

#include <vector>

namespace hm {

/// The instruction set the row transform runs with.
enum class SparseIdctKernel {
  Scalar,  ///< portable: blocks are skipped or handed to libjpeg whole
  Avx2,    ///< blocks read on one or two rows are transformed on those rows
};

bool sparse_idct_kernel_supported(SparseIdctKernel kernel);
SparseIdctKernel sparse_idct_kernel_best();

/// libjpeg's ISLOW multiplier table for a component (compptr->dct_table) and,
/// per coefficient, the largest magnitude whose dequantized value stays
/// within the range idct_islow_rows accepts.
struct IslowTable {
  int16_t quant[64];
  uint16_t limit[64];
  void set(const int16_t* dct_table);
};

/// Rows r of the 8 x 8 block (bit r of row_mask) through libjpeg's ISLOW
/// IDCT: out_rows[r][out_col .. out_col + 7]. coef holds the 64 quantized
/// coefficients in natural order. Where a dequantized coefficient exceeds
/// 8191 or an intermediate of a wanted row falls where libjpeg's C and SIMD
/// transforms could differ (16-bit wrap, saturation, range-limit wrap), it
/// returns false, and the caller runs libjpeg's own: real encoders' blocks
/// never come near those bounds. Rows may be written before it returns false.
/// The scalar kernel is the reference for the vector one.
bool idct_islow_rows(const int16_t* coef, const IslowTable& table, unsigned row_mask,
                     uint8_t* const* out_rows, unsigned out_col, SparseIdctKernel kernel);

/// Which samples of one component plane will be read: bit r of rows[b] for
/// plane row 8 b + r, and cols[b] nonzero when block column b is read.
struct PlaneReads {
  std::vector<uint8_t> rows;  ///< per block row
  std::vector<uint8_t> cols;  ///< per block column
  void resize(int block_rows, int block_cols);
  void mark_row(int y) { rows[(size_t)y >> 3] |= (uint8_t)(1u << (y & 7)); }
  void mark_col(int x) { cols[(size_t)x >> 3] = 1; }
};

/// A block queued for its rows (its coefficients are copied beside it:
/// libjpeg reuses its buffer) and where the rows go.
struct SparseIdctBlock {
  const IslowTable* table;
  JSAMPARRAY out;
  unsigned col;
  unsigned mask;
  int component;
};

/// Installs itself as libjpeg's IDCT for the raw-data reads of one image
/// (jpeg_read_raw_data into caller-owned row-pointer arrays, one iMCU row per
/// call). Until enable() every block goes to libjpeg; after it, blocks
/// outside the planes' reads are skipped and blocks read on few rows are
/// queued and transformed in batches (a lone block would wait on its own
/// dependency chain). Uses cinfo.client_data.
class SparseIdct {
 public:
  /// What will be read of each component's plane, filled before install().
  std::vector<PlaneReads>& plane_reads() { return reads_; }
  /// After jpeg_start_decompress with raw_data_out: hooks the components
  /// whose reads spare enough work to pay for the hook (false when none).
  /// Does nothing unless every component has its plane_reads and unscaled
  /// 8 x 8 blocks; the row transform only for JDCT_ISLOW.
  bool install(jpeg_decompress_struct& cinfo, SparseIdctKernel kernel = sparse_idct_kernel_best());
  /// Before each jpeg_read_raw_data: the arrays it writes and their iMCU row.
  void next_read(JSAMPARRAY* arrays, int imcu_row) {
    arrays_ = arrays;
    imcu_row_ = imcu_row;
  }
  /// After each jpeg_read_raw_data: transforms the blocks still queued.
  void finish_read() { flush(); }
  /// From now on only the planes' reads need to be right.
  void enable() { enabled_ = true; }

  /// Blocks skipped, transformed on some rows, handed to libjpeg (tests).
  struct Counts {
    long skipped = 0, partial = 0, whole = 0;
  };
  const Counts& counts() const { return counts_; }

 private:
  static void hook(j_decompress_ptr cinfo, jpeg_component_info* compptr, JCOEFPTR coef,
                   JSAMPARRAY output_buf, JDIMENSION output_col);
  void flush();

  using Idct = void (*)(j_decompress_ptr, jpeg_component_info*, JCOEFPTR, JSAMPARRAY, JDIMENSION);
  struct Component {
    Idct libjpeg = nullptr;
    IslowTable table;
    int rows_per_imcu = 0;  ///< plane rows per iMCU row
  };
  static constexpr int kBatch = 32;

  jpeg_decompress_struct* cinfo_ = nullptr;
  std::vector<PlaneReads> reads_;
  std::vector<Component> comps_;
  bool partial_ = false;  ///< whether blocks are transformed on some rows
  JSAMPARRAY* arrays_ = nullptr;
  int imcu_row_ = 0;
  bool enabled_ = false;
  alignas(32) int16_t coef_[kBatch][64];
  SparseIdctBlock pending_[kBatch];
  int queued_ = 0;
  Counts counts_;
};

}  // namespace hm
