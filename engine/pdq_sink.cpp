#include "pdq_sink.hpp"

#include <string.h>

#include "luma_cpu.hpp"
#include "pdq_math.hpp"

namespace hm {

void PreresizePlan::begin(int width, int height) {
  height_ = height;
  const bool resize = width > pdq::kPreResize || height > pdq::kPreResize;
  out_width_ = resize ? pdq::kPreResize : width;
  out_height_ = resize ? pdq::kPreResize : height;
  selection_.cols.clear();
  selection_.rows.clear();
  if (!resize) return;
  selection_.cols.resize(out_width_);
  for (int x = 0; x < out_width_; ++x) selection_.cols[x] = pdq::preresize_source_index(x, width);
  for (int y = 0; y < out_height_; ++y) {
    const int source = pdq::preresize_source_index(y, height);
    if (selection_.rows.empty() || selection_.rows.back() != source) selection_.rows.push_back(source);
  }
}

void PdqSink::begin(const PixelFormat& format) {
  format_ = format;
  layout_ = layout_of(format);
  begun_ = true;
  plan_.begin(format.width, format.height);
  out_width_ = plan_.out_width();
  out_height_ = plan_.out_height();
  next_out_ = 0;
  rows_seen_ = 0;
  maybe_grey_ = format.channels != 1 && format.detect_grey;
  keep_luma_ = out_width_ == pdq::kGrid && out_height_ == pdq::kGrid;
  buffering_ = maybe_grey_ || keep_luma_;
  if (buffering_) luma_.resize((size_t)out_width_ * out_height_);
  blur_.begin(out_height_, out_width_, grid_);
}

void PdqSink::stop_buffering() {
  for (int y = 0; y < next_out_; ++y) blur_.push_row(luma_.data() + (size_t)y * out_width_);
  buffering_ = false;
}

template <typename Convert>
void PdqSink::emit_rows_of(int y, Convert&& convert) {
  // Luma is written where it is kept (the buffered plane, or the blur's next
  // row), never through a temporary; a short side that the pre-resize
  // stretches repeats the row, which is then copied.
  const float* first = nullptr;
  while (next_out_ < out_height_ && plan_.source_row(next_out_) == y) {
    float* luma = buffering_ ? luma_.data() + (size_t)next_out_ * out_width_ : blur_.row_buffer();
    if (first) {
      memcpy(luma, first, sizeof(float) * out_width_);
    } else {
      convert(luma);
    }
    if (!buffering_) blur_.push_row();
    first = luma;
    ++next_out_;
  }
}

void PdqSink::finish_rows() {
  if (!buffering_) return;
  if (maybe_grey_) pdq::luma_rgb_to_grey_cpu(luma_.data(), (int64_t)luma_.size());
  if (!keep_luma_) stop_buffering();
}

void PdqSink::row(int y, const uint8_t* samples) {
  ++rows_seen_;
  if (maybe_grey_ && !pdq::row_is_grey_cpu(samples, layout_, format_.width)) colour_seen();
  const int* cols = plan_.cols();
  emit_rows_of(y, [&](float* luma) {
    pdq::luma_row_cpu(samples, layout_, cols, out_width_, luma);
  });
  if (y == format_.height - 1) finish_rows();
}

const PixelSelection* PdqSink::selection() const { return plan_.selection(); }

void PdqSink::selected_row(int y, const uint32_t* rgb) {
  emit_rows_of(y, [&](float* luma) { pdq::luma_of_rgb_words_cpu(rgb, out_width_, luma); });
}

void PdqSink::colour_seen() {
  if (!maybe_grey_) return;
  maybe_grey_ = false;
  if (buffering_ && !keep_luma_) stop_buffering();
}

void PdqSink::end_selected(bool all_grey) {
  rows_seen_ = format_.height;
  if (!all_grey) colour_seen();
  finish_rows();
}

void PdqSink::hash(bool dihedral, pdq::PdqResult& result) {
  if (pdq::pdq_below_min_size(out_width_, out_height_, result)) return;
  if (keep_luma_) {
    // Exactly 64 x 64: the reference's plain hash skips the blur, its
    // dihedral hashes do not.
    if (dihedral) pdq::blur_and_sample_cpu(luma_.data(), out_height_, out_width_, grid_, blur_);
    pdq::pdq_hash_grids(luma_.data(), grid_, dihedral, result);
    return;
  }
  blur_.finish();
  pdq::pdq_hash_grids(grid_, grid_, dihedral, result);
}

}  // namespace hm
