// libFuzzer target for PDQ on fuzzer-chosen small images. The first 5 bytes
// choose the image: width and height (16-bit little-endian each, 1..1024,
// at most kMaxPixels) and a flags byte (channels 1/3/4, CMYK, grey detection,
// dihedral hashes); the remaining bytes are the samples, repeated to fill the
// image. Each image goes row by row through PdqSink (the engine's path, with
// the 512 x 512 pre-resize when a side is larger), and, when it needs no
// pre-resize and is small, through pdq_hash_cpu, which must agree bit for bit with the
// scalar pdq_hash_reference: a difference aborts, so it is reported as a crash.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <vector>

#include "pdq_cpu.hpp"
#include "pdq_sink.hpp"

namespace {

constexpr int kMaxSide = 1024;
constexpr size_t kMaxPixels = 300'000;  // keeps each input well under a second with sanitizers
constexpr int kMaxOracleSide = 128;     // the scalar oracle is slow; small images reach every branch
constexpr size_t kHeaderBytes = 5;

bool same(const hm::pdq::PdqResult& a, const hm::pdq::PdqResult& b, bool dihedral) {
  if (a.hash != b.hash || a.quality != b.quality || a.below_min_size != b.below_min_size) return false;
  return !dihedral || a.dihedral == b.dihedral;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kHeaderBytes) return 0;
  const int width = 1 + (data[0] | data[1] << 8) % kMaxSide;
  const int height = 1 + (data[2] | data[3] << 8) % kMaxSide;
  if ((size_t)width * height > kMaxPixels) return 0;
  const uint8_t flags = data[4];
  static constexpr int kChannels[4] = {1, 3, 4, 3};
  hm::PixelFormat format;
  format.width = width;
  format.height = height;
  format.channels = kChannels[flags & 3];
  format.cmyk = format.channels == 4 && (flags & 4) != 0;
  format.detect_grey = (flags & 8) != 0;
  const bool dihedral = (flags & 16) != 0;

  // The samples: the rest of the input, cyclically (all zero when there is none).
  const uint8_t* body = data + kHeaderBytes;
  const size_t body_size = size - kHeaderBytes;
  std::vector<uint8_t> pixels((size_t)width * height * format.channels, 0);
  if (body_size > 0) {
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = body[i % body_size];
  }

  static hm::PdqSink sink;
  sink.reset();
  sink.begin(format);
  const size_t stride = (size_t)width * format.channels;
  for (int y = 0; y < height; ++y) sink.row(y, pixels.data() + y * stride);
  if (!sink.complete()) abort();
  hm::pdq::PdqResult from_sink;
  sink.hash(dihedral, from_sink);

  // The fast kernel against the oracle, on images PDQ takes as they are.
  if (format.cmyk || width > kMaxOracleSide || height > kMaxOracleSide) return 0;
  // PdqImage::grey promises R = G = B everywhere, so it is set only when true.
  bool grey = format.channels == 3;
  for (size_t i = 0; grey && i < pixels.size(); i += 3)
    grey = pixels[i] == pixels[i + 1] && pixels[i] == pixels[i + 2];
  hm::pdq::PdqImage image{pixels.data(), width, height, format.channels, grey};
  static hm::pdq::PdqScratch scratch;
  hm::pdq::PdqResult fast;
  hm::pdq::PdqResult slow;
  hm::pdq::pdq_hash_cpu(image, dihedral, fast, scratch);
  hm::pdq::pdq_hash_reference(image, dihedral, slow);
  if (!same(fast, slow, dihedral)) abort();
  return 0;
}
