#include "pdq_grid_sink.hpp"

#include <string.h>

namespace hm {

namespace {

bool row_is_grey(const uint8_t* p, int width) {
  for (int x = 0; x < width; ++x, p += 3)
    if (p[0] != p[1] || p[1] != p[2]) return false;
  return true;
}

}  // namespace

void PdqGridSink::begin(const PixelFormat& format) {
  format_ = format;
  begun_ = true;
  resized_ = format.width > pdq::kPreResize || format.height > pdq::kPreResize;
  out_width_ = resized_ ? pdq::kPreResize : format.width;
  out_height_ = resized_ ? pdq::kPreResize : format.height;
  next_out_ = 0;
  all_grey_ = format.channels == 3 && format.detect_grey;
  source_col_.clear();
  if (resized_) {
    source_col_.resize(out_width_);
    for (int x = 0; x < out_width_; ++x)
      source_col_[x] = pdq::preresize_source_index(x, format.width);
  }
  pixels_.resize((size_t)out_width_ * out_height_ * format.channels);
}

void PdqGridSink::row(int y, const uint8_t* samples) {
  const int c = format_.channels;
  if (all_grey_) all_grey_ = row_is_grey(samples, format_.width);
  const size_t out_stride = (size_t)out_width_ * c;
  if (!resized_) {
    memcpy(pixels_.data() + (size_t)y * out_stride, samples, out_stride);
    next_out_ = y + 1;
    return;
  }
  bool filled = false;
  while (next_out_ < out_height_ &&
         pdq::preresize_source_index(next_out_, format_.height) == y) {
    uint8_t* dst = pixels_.data() + (size_t)next_out_ * out_stride;
    if (filled) {
      memcpy(dst, dst - out_stride, out_stride);  // a short side repeats rows
    } else if (c == 1) {
      for (int x = 0; x < out_width_; ++x) dst[x] = samples[source_col_[x]];
    } else {
      for (int x = 0; x < out_width_; ++x) memcpy(dst + 3 * x, samples + 3 * source_col_[x], 3);
    }
    filled = true;
    ++next_out_;
  }
}

pdq::PdqImage PdqGridSink::image() const {
  pdq::PdqImage image;
  image.pixels = pixels_.data();
  image.width = out_width_;
  image.height = out_height_;
  image.channels = format_.channels;
  image.grey = all_grey_;
  return image;
}

}  // namespace hm
