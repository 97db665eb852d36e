// Helpers shared by the decoder tests (test_decode.cpp, test_decode_formats.cpp,
// test_jpeg_raw.cpp): fixture reading, the FNV-1a 64 digest that the fixture scripts write to
// expected.tsv, a sink that checks the PixelSink contract, and the hostile-input check.
#pragma once

#include <gtest/gtest.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "decode.hpp"
#include "luma_cpu.hpp"
#include "pixel_sink.hpp"

namespace hm::test {

/// The whole file as bytes; empty when it cannot be read, so callers should check for empty
/// (ASSERT_FALSE(data.empty())) before relying on a fixture.
inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

/// FNV-1a 64 of the bytes, as 16 lower-case hex digits: the digest that
/// tests/data/pnm_fnv1a64.py (called by both make_fixtures.sh scripts) writes to expected.tsv,
/// so decoded pixels compare against ImageMagick's without storing them.
inline std::string fnv1a64(const uint8_t* data, size_t size) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ull;
  }
  char text[17];
  snprintf(text, sizeof text, "%016llx", (unsigned long long)h);
  return text;
}
/// FNV-1a 64 of a whole buffer (see the pointer overload).
inline std::string fnv1a64(const std::vector<uint8_t>& v) { return fnv1a64(v.data(), v.size()); }

/// True when a decode error names its stage ("decode:", "limit:" or "unsupported:"), which is
/// what the CLI's reports rely on to classify failures.
inline bool has_stage_prefix(const std::string& error) {
  return error.rfind("decode:", 0) == 0 || error.rfind("limit:", 0) == 0 ||
         error.rfind("unsupported:", 0) == 0;
}

/// Checks the PixelSink contract and records the layout the decoder chose: exactly one begin()
/// with a positive size and 1, 3 or 4 channels (4 is RGBX, or CMYK inks with format.cmyk; cmyk
/// only with 4 channels), then rows 0, 1, 2, ... below the height. Each row's
/// width * bytes_per_pixel(layout_of(format)) bytes are all read, so a decoder handing over a
/// short row trips AddressSanitizer. Violations collect in `problems`.
class CheckingSink final : public PixelSink {
 public:
  void begin(const PixelFormat& format) override {
    ++begins;
    format_ = format;
    if (format.width <= 0 || format.height <= 0 ||
        (format.channels != 1 && format.channels != 3 && format.channels != 4) ||
        (format.cmyk && format.channels != 4))
      problems.push_back("bad format");
  }
  void row(int y, const uint8_t* samples) override {
    if (begins != 1) problems.push_back("row before begin");
    if (y != rows) problems.push_back("row " + std::to_string(y) + " out of order");
    if (y >= format_.height) problems.push_back("row past the height");
    // Touch every byte so that a short row shows up under AddressSanitizer.
    const int row_bytes = format_.width * pdq::bytes_per_pixel(layout_of(format_));
    uint32_t sum = 0;
    for (int i = 0; i < row_bytes; ++i) sum += samples[i];
    checksum += sum;
    ++rows;
  }
  /// The format given to begin().
  const PixelFormat& format() const { return format_; }
  int begins = 0;
  int rows = 0;
  uint64_t checksum = 0;
  std::vector<std::string> problems;

 private:
  PixelFormat format_;
};

/// Decodes `size` bytes from an exactly sized heap copy (so any overread trips AddressSanitizer)
/// into a CheckingSink and checks the outcome is well formed: no contract problems, at most one
/// begin, and on success one begin and every row. A failure names its stage; past the magic
/// bytes of a JPEG (what its decoder sees) it must be "decode:" or "limit:", never
/// "unsupported:", and the JPEG decoder's warnings start with "decode:". Input that sniffs as no
/// format never reaches a decoder and has no warnings.
inline void expect_safe_decode(const uint8_t* data, size_t size, const DecodeOptions& options) {
  const std::vector<uint8_t> copy(data, data + size);  // exact size: overreads trip ASan
  const uint8_t* bytes = copy.empty() ? nullptr : copy.data();
  const ImageFormat format = sniff_format(bytes, size);
  CheckingSink sink;
  const DecodeOutcome out = decode_image(bytes, size, options, sink);
  EXPECT_TRUE(sink.problems.empty()) << sink.problems.front();
  EXPECT_LE(sink.begins, 1);
  if (out.ok()) {
    EXPECT_EQ(sink.begins, 1);
    EXPECT_EQ(sink.rows, out.height);
  } else if (format == ImageFormat::Jpeg) {
    EXPECT_TRUE(out.error.rfind("decode:", 0) == 0 || out.error.rfind("limit:", 0) == 0)
        << "unexpected error: " << out.error;
  } else {
    EXPECT_TRUE(has_stage_prefix(out.error)) << "error without a stage: " << out.error;
  }
  if (format == ImageFormat::Jpeg) {
    for (const std::string& w : out.warnings) EXPECT_EQ(w.rfind("decode:", 0), 0u) << w;
  } else if (format == ImageFormat::Unknown) {
    EXPECT_TRUE(out.warnings.empty()) << out.warnings.front();
  }
}

}  // namespace hm::test
