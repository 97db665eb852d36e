// libFuzzer target: any bytes through one decoder into the PDQ sink (the
// engine's real path), then into the full-image sink. HM_FUZZ_DECODER names
// the decoder (decode_jpeg, decode_png, ...: one target per format, so each
// fuzzer's corpus stays within its format); without it, decode_image sniffs
// the format and any decoder may run. Built with clang when
// HM_BUILD_FUZZERS=ON; run with scripts/fuzz.sh.
#include <stddef.h>
#include <stdint.h>

#include "decode.hpp"
#include "pdq_cpu.hpp"
#include "pdq_sink.hpp"

#ifndef HM_FUZZ_DECODER
#define HM_FUZZ_DECODER decode_image
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hm::DecodeOptions options;
  options.max_pixels = 4'000'000;  // keep each input fast; the limit path is tested too
  static hm::PdqSink pdq_sink;
  pdq_sink.reset();
  const hm::DecodeOutcome out = hm::HM_FUZZ_DECODER(data, size, options, pdq_sink);
  if (out.ok() && pdq_sink.complete()) {
    hm::pdq::PdqResult result;
    pdq_sink.hash(true, result);
  }
  hm::FullImageSink full;
  hm::HM_FUZZ_DECODER(data, size, options, full);
  return 0;
}
