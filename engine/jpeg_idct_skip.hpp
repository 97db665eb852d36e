// Skips libjpeg's inverse DCT for blocks that nothing will read. The raw
// JPEG path reads only the samples of the PDQ pre-resize: on a photo wider
// than 4096 px whole 8 x 8 blocks fall between the sampled columns (half of
// the luma blocks of a 48 MP photo, a third of a 24 MP one's). libjpeg
// transforms every block; hooked into its IDCT, this drops the calls for
// blocks outside the reads and hands every other block to libjpeg's own
// transform, so every sample read is libjpeg's, bit for bit.
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <jpeglib.h>

#include <vector>

namespace hm {

/// Which samples of one component plane will be read: rows[b] for plane
/// rows 8 b .. 8 b + 7 and cols[b] for block column b, nonzero when read.
struct PlaneReads {
  std::vector<uint8_t> rows;  ///< per block row
  std::vector<uint8_t> cols;  ///< per block column
  void resize(int block_rows, int block_cols);
  void mark_row(int y) { rows[(size_t)y >> 3] = 1; }
  void mark_col(int x) { cols[(size_t)x >> 3] = 1; }
};

/// Installs itself as libjpeg's IDCT for the raw-data reads of one image
/// (jpeg_read_raw_data into caller-owned row-pointer arrays, one iMCU row per
/// call). Until enable() every block goes to libjpeg; after it, blocks
/// outside the planes' reads are skipped. Uses cinfo.client_data.
class IdctSkipper {
 public:
  /// What will be read of each component's plane, filled before install().
  std::vector<PlaneReads>& plane_reads() { return reads_; }
  /// After jpeg_start_decompress with raw_data_out. Does nothing (returns
  /// false) unless every component has its plane_reads and unscaled 8 x 8
  /// blocks.
  bool install(jpeg_decompress_struct& cinfo);
  /// Before each jpeg_read_raw_data: the arrays it writes and their iMCU row.
  void next_read(JSAMPARRAY* arrays, int imcu_row) {
    arrays_ = arrays;
    imcu_row_ = imcu_row;
  }
  /// From now on only the planes' reads need to be right.
  void enable() { enabled_ = true; }

  /// Blocks skipped and blocks transformed by libjpeg (tests).
  struct Counts {
    long skipped = 0, transformed = 0;
  };
  const Counts& counts() const { return counts_; }

 private:
  static void hook(j_decompress_ptr cinfo, jpeg_component_info* compptr, JCOEFPTR coef,
                   JSAMPARRAY output_buf, JDIMENSION output_col);

  using Idct = void (*)(j_decompress_ptr, jpeg_component_info*, JCOEFPTR, JSAMPARRAY, JDIMENSION);
  std::vector<PlaneReads> reads_;
  std::vector<Idct> libjpeg_;          ///< libjpeg's IDCT per component
  std::vector<int> rows_per_imcu_;     ///< plane rows per iMCU row, per component
  JSAMPARRAY* arrays_ = nullptr;
  int imcu_row_ = 0;
  bool enabled_ = false;
  Counts counts_;
};

}  // namespace hm
