// The reference's blur (two passes of a box filter along rows, then columns)
// and 64 x 64 sampling, vectorised and streamed for the CPU. Bit-identical to
// running pdq_math.hpp's box_filter_line over every row, then every column,
// twice, and sampling.
#pragma once

#include <memory>
#include <vector>

#include "pdq_math.hpp"

namespace hm::pdq {

/// Blurs a luma plane fed one row at a time, top to bottom, and samples the
/// 64 x 64 grid. Rows are filtered in blocks of 32 as they arrive and the
/// column filters keep only the rows their windows still need, so the whole
/// working set stays in cache whatever the image size. The second pass only
/// computes what the grid reads: every running sum, but divisions and stores
/// at the 64 sampled columns, then only those columns down. One per thread.
class BlurPipeline {
 public:
  BlurPipeline();
  ~BlurPipeline();
  BlurPipeline(const BlurPipeline&) = delete;
  BlurPipeline& operator=(const BlurPipeline&) = delete;

  /// Starts an h x w plane; the grid (64 x 64 floats) is written by finish().
  void begin(int h, int w, float* grid64);
  /// Where the caller may write the next row (w floats), then call push_row().
  float* row_buffer();
  void push_row();
  /// Copies a row in and pushes it.
  void push_row(const float* row);
  /// After h rows: completes both passes and fills the grid.
  void finish();

 private:
  class ColumnFilter;
  struct FirstPassSink {
    BlurPipeline* self;
    float* destination(int i) const;
    void operator()(int i, const float* row) const;
  };
  struct SecondPassSink {
    BlurPipeline* self;
    float* destination(int i) const;
    void operator()(int i, const float* row) const;
  };
  void flush_first_rows();
  void flush_second_rows();

  int h_ = 0, w_ = 0, wx_ = 1, wy_ = 1;
  float* grid_ = nullptr;
  int cols_[kGrid];
  int rows_[kGrid];
  int next_grid_row_ = 0;  ///< first grid row not yet written
  std::vector<float> block_;      ///< [32, w] luma rows waiting for the first row filter
  int block_rows_ = 0;
  int rows_in_ = 0;
  std::vector<float> mid_block_;  ///< [32, w] first-pass output waiting for the second row filter
  int mid_rows_ = 0;
  int mid_in_ = 0;
  std::vector<float> out_row_;    ///< one sampled output row of 64
  std::vector<float> lanes_storage_;
  float* lanes_ = nullptr;        ///< 32-byte aligned view of lanes_storage_
  std::unique_ptr<ColumnFilter> first_;
  std::unique_ptr<ColumnFilter> second_;
};

/// Convenience: the pipeline over a whole row-major plane [h, w].
void blur_and_sample_cpu(const float* luma, int h, int w, float* grid64, BlurPipeline& pipeline);

}  // namespace hm::pdq
