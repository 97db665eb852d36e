// Keeps the pixels PDQ will read, and nothing else, so the hash can be
// computed later and elsewhere (a GPU batch) from exactly the input the CPU
// path hashes.
#pragma once

#include <stdint.h>

#include <vector>

#include "pdq_cpu.hpp"
#include "pdq_sink.hpp"
#include "pixel_sink.hpp"

namespace hm {

/// An image after the reference loader's pre-resize and grey rule: what PDQ
/// reads, in at most 512 x 512 x 3 bytes.
struct PreresizedImage {
  /// Row-major [height, width, bytes_per_pixel(layout)], rows packed.
  std::vector<uint8_t> pixels;
  int width = 0;  ///< after the pre-resize: at most 512
  int height = 0;
  /// Grey (Y = value) or Rgb (weighted luma). Whatever the decoder's layout,
  /// colour images are stored as RGB (RGBX drops its 4th byte, CMYK inks are
  /// converted as the CPU converts them), since luma depends on R, G, B alone.
  pdq::PixelLayout layout = pdq::PixelLayout::Rgb;
  /// The source had colour channels but every pixel of the whole image (not
  /// only the sampled ones) has R = G = B: the reference's grey rule applies.
  /// Such images are stored with the Grey layout (one byte, Y = value, the
  /// same luma as the rounded weighted sum) and keep this flag for the record.
  bool grey = false;
};

/// The CPU's view of `image`, for pdq_hash_cpu: valid while `image` lives.
pdq::PdqImage pdq_image_of(const PreresizedImage& image);

/// Hashes `image` with the CPU PDQ: the same bits PdqSink gives for the
/// source image.
void hash_preresized_cpu(const PreresizedImage& image, bool dihedral, pdq::PdqResult& result,
                         pdq::PdqScratch& scratch);

/// Collects a decoded image as a PreresizedImage: the PreresizePlan's rows
/// and columns (so decoders may skip the rest, as they do for PdqSink), and
/// the grey rule over every pixel (colour_seen / end_selected, or each row).
class PreresizeSink final : public PixelSink {
 public:
  void begin(const PixelFormat& format) override;
  void row(int y, const uint8_t* samples) override;
  const PixelSelection* selection() const override { return plan_.selection(); }
  void selected_row(int y, const uint32_t* rgb) override;
  void colour_seen() override { maybe_grey_ = false; }
  void end_selected(bool all_grey) override;

  /// Forgets the previous image, so complete() is false until the next one arrives.
  void reset() {
    begun_ = false;
    image_ = PreresizedImage{};
  }
  /// True once begin() and every row have arrived (and the grey rule is settled).
  bool complete() const { return begun_ && rows_seen_ == format_.height && next_out_ == image_.height; }
  /// Moves the completed image out; the sink is empty until the next begin().
  PreresizedImage take();

 private:
  /// Copies the output rows that source row y becomes (several when a short
  /// side is stretched); `convert` fills the first one.
  template <typename Convert>
  void store_rows_of(int y, Convert&& convert);
  /// Settles the grey rule once the last row is in.
  void finish();

  PixelFormat format_;
  pdq::PixelLayout layout_ = pdq::PixelLayout::Rgb;  ///< the decoder's
  PreresizePlan plan_;
  PreresizedImage image_;
  int channels_ = 3;   ///< stored bytes per pixel: 1 or 3
  int next_out_ = 0;   ///< next output row to store
  int rows_seen_ = 0;  ///< source rows received
  bool begun_ = false;
  bool maybe_grey_ = false;        ///< colour channels, and no colour pixel seen yet
  std::vector<uint8_t> gathered_;  ///< one row's selected source pixels, packed
};

}  // namespace hm
