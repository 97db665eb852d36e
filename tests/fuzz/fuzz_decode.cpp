// libFuzzer target: any bytes through format sniffing, every decoder and the
// PDQ sink (the engine's real path), and through the full-image sink. Built
// with clang when HM_BUILD_FUZZERS=ON; run with scripts/fuzz.sh.
#include <stddef.h>
#include <stdint.h>

#include "decode.hpp"
#include "pdq_cpu.hpp"
#include "pdq_sink.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hm::DecodeOptions options;
  options.max_pixels = 4'000'000;  // keep each input fast; the limit path is tested too
  static hm::PdqSink pdq_sink;
  pdq_sink.reset();
  const hm::DecodeOutcome out = hm::decode_image(data, size, options, pdq_sink);
  if (out.ok() && pdq_sink.complete()) {
    hm::pdq::PdqResult result;
    pdq_sink.hash(true, result);
  }
  hm::FullImageSink full;
  hm::decode_image(data, size, options, full);
  return 0;
}
