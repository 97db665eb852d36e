#include "preresize_sink.hpp"

#include <string.h>

#include <utility>

#include "luma_cpu.hpp"

namespace hm {

pdq::PdqImage pdq_image_of(const PreresizedImage& image) {
  pdq::PdqImage view;
  view.pixels = image.pixels.data();
  view.width = image.width;
  view.height = image.height;
  view.channels = pdq::bytes_per_pixel(image.layout);
  view.grey = image.grey && view.channels != 1;
  return view;
}

void hash_preresized_cpu(const PreresizedImage& image, bool dihedral, pdq::PdqResult& result,
                         pdq::PdqScratch& scratch) {
  pdq::pdq_hash_cpu(pdq_image_of(image), dihedral, result, scratch);
}

void PreresizeSink::begin(const PixelFormat& format) {
  format_ = format;
  layout_ = layout_of(format);
  plan_.begin(format.width, format.height);
  channels_ = format.channels == 1 ? 1 : 3;
  image_ = PreresizedImage{};
  image_.width = plan_.out_width();
  image_.height = plan_.out_height();
  image_.layout = channels_ == 1 ? pdq::PixelLayout::Grey : pdq::PixelLayout::Rgb;
  image_.pixels.resize((size_t)image_.width * image_.height * channels_);
  next_out_ = 0;
  rows_seen_ = 0;
  begun_ = true;
  maybe_grey_ = format.channels != 1 && format.detect_grey;
}

template <typename Convert>
void PreresizeSink::store_rows_of(int y, Convert&& convert) {
  const size_t stride = (size_t)image_.width * channels_;
  uint8_t* first = nullptr;
  while (next_out_ < image_.height && plan_.source_row(next_out_) == y) {
    uint8_t* dst = image_.pixels.data() + (size_t)next_out_ * stride;
    if (first == nullptr) {
      convert(dst);
      first = dst;
    } else {
      memcpy(dst, first, stride);  // a short side stretched to 512 repeats rows
    }
    ++next_out_;
  }
}

void PreresizeSink::row(int y, const uint8_t* samples) {
  ++rows_seen_;
  if (maybe_grey_ && !pdq::row_is_grey_cpu(samples, layout_, format_.width)) maybe_grey_ = false;
  const int n = image_.width;
  const int* cols = plan_.cols();
  store_rows_of(y, [&](uint8_t* dst) {
    if (channels_ == 1) {
      if (cols == nullptr) {
        memcpy(dst, samples, (size_t)n);
      } else {
        for (int x = 0; x < n; ++x) dst[x] = samples[cols[x]];
      }
      return;
    }
    if (cols == nullptr) {
      if (layout_ == pdq::PixelLayout::Rgb)
        memcpy(dst, samples, (size_t)n * 3);
      else
        pdq::row_to_rgb(samples, layout_, n, dst);
      return;
    }
    // Gather the sampled pixels, then convert them as one packed row.
    const int bpp = pdq::bytes_per_pixel(layout_);
    gathered_.resize((size_t)n * bpp);
    for (int x = 0; x < n; ++x)
      memcpy(gathered_.data() + (size_t)x * bpp, samples + (size_t)cols[x] * bpp, bpp);
    pdq::row_to_rgb(gathered_.data(), layout_, n, dst);
  });
  if (y == format_.height - 1) finish();
}

void PreresizeSink::selected_row(int y, const uint32_t* rgb) {
  const int n = image_.width;
  store_rows_of(y, [&](uint8_t* dst) {
    for (int x = 0; x < n; ++x) {
      const uint32_t v = rgb[x];
      if (channels_ == 1) {
        // Decoders select only colour formats; a grey one keeps its value (R).
        dst[x] = (uint8_t)v;
        continue;
      }
      dst[3 * x] = (uint8_t)v;
      dst[3 * x + 1] = (uint8_t)(v >> 8);
      dst[3 * x + 2] = (uint8_t)(v >> 16);
    }
  });
}

void PreresizeSink::end_selected(bool all_grey) {
  rows_seen_ = format_.height;
  if (!all_grey) maybe_grey_ = false;
  finish();
}

void PreresizeSink::finish() {
  if (!maybe_grey_ || channels_ == 1) return;
  // Every pixel is grey: keep one byte of three. Y = value is what the CPU's
  // rounded weighted luma recovers, and a third of the bytes travel.
  uint8_t* p = image_.pixels.data();
  const size_t count = (size_t)image_.width * image_.height;
  for (size_t i = 0; i < count; ++i) p[i] = p[3 * i];
  image_.pixels.resize(count);
  image_.pixels.shrink_to_fit();
  image_.layout = pdq::PixelLayout::Grey;
  image_.grey = true;
  maybe_grey_ = false;
}

PreresizedImage PreresizeSink::take() {
  begun_ = false;
  return std::move(image_);
}

}  // namespace hm
