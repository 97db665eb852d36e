#include "decode.hpp"

namespace hm {

// Being written now; see the foundation issue.
DecodeOutcome decode_bmp(const uint8_t*, size_t, const DecodeOptions&, PixelSink&) {
  DecodeOutcome out;
  out.format = ImageFormat::Bmp;
  out.error = "unsupported: BMP decoding is not built yet";
  return out;
}

}  // namespace hm
