#include "decode.hpp"

namespace hm {

// Being written now; see the foundation issue.
DecodeOutcome decode_webp(const uint8_t*, size_t, const DecodeOptions&, PixelSink&) {
  DecodeOutcome out;
  out.format = ImageFormat::Webp;
  out.error = "unsupported: WEBP decoding is not built yet";
  return out;
}

}  // namespace hm
