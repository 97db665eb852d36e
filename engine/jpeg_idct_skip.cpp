#include "jpeg_idct_skip.hpp"

#include <jpegint.h>  // struct jpeg_inverse_dct: the IDCT method pointers we wrap

#include <algorithm>

namespace hm {

void PlaneReads::resize(int block_rows, int block_cols) {
  rows.assign((size_t)std::max(block_rows, 0), 0);
  cols.assign((size_t)std::max(block_cols, 0), 0);
}

bool IdctSkipper::install(jpeg_decompress_struct& cinfo) {
  enabled_ = false;
  counts_ = Counts{};
  if (cinfo.idct == nullptr || reads_.size() != (size_t)cinfo.num_components) return false;
  for (int ci = 0; ci < cinfo.num_components; ++ci)
    if (cinfo.comp_info[ci].DCT_scaled_size != DCTSIZE || cinfo.idct->inverse_DCT[ci] == nullptr)
      return false;
  libjpeg_.assign((size_t)cinfo.num_components, nullptr);
  rows_per_imcu_.assign((size_t)cinfo.num_components, 0);
  for (int ci = 0; ci < cinfo.num_components; ++ci) {
    libjpeg_[ci] = cinfo.idct->inverse_DCT[ci];
    rows_per_imcu_[ci] = cinfo.comp_info[ci].v_samp_factor * DCTSIZE;
    cinfo.idct->inverse_DCT[ci] = &IdctSkipper::hook;
  }
  cinfo.client_data = this;
  return true;
}

void IdctSkipper::hook(j_decompress_ptr cinfo, jpeg_component_info* compptr, JCOEFPTR coef,
                       JSAMPARRAY output_buf, JDIMENSION output_col) {
  auto* self = static_cast<IdctSkipper*>(cinfo->client_data);
  const int ci = compptr->component_index;
  if (self->enabled_) {
    // libjpeg passes a pointer into this read's row array, at the block's first row.
    const long row = (long)self->imcu_row_ * self->rows_per_imcu_[ci] + (output_buf - self->arrays_[ci]);
    const PlaneReads& reads = self->reads_[ci];
    const size_t block_row = (size_t)row >> 3, block_col = (size_t)output_col >> 3;
    if (row >= 0 && block_row < reads.rows.size() && block_col < reads.cols.size() &&
        (reads.rows[block_row] == 0 || reads.cols[block_col] == 0)) {
      ++self->counts_.skipped;
      return;
    }
  }
  ++self->counts_.transformed;
  self->libjpeg_[ci](cinfo, compptr, coef, output_buf, output_col);
}

}  // namespace hm
