// SHA-1 and SHA-256 of several independent messages, a few at a time: with
// the x86 SHA extensions one message's rounds form a single dependency chain
// through sha1rnds4 / sha256rnds2, whose latency is longer than their issue
// interval, so several messages' rounds interleaved in one loop (a set of
// state registers each) keep the SHA unit busier: three streams for SHA-1,
// two for SHA-256 (where two already saturate it). The scalar kernel is
// OpenSSL's digest per message, one after another.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace hm {

/// The instruction set sha1_many and sha256_many run with.
enum class ShaKernel {
  Scalar,  ///< OpenSSL's SHA-1 / SHA-256 (EVP), message by message
  ShaNi,   ///< messages interleaved, 3 (SHA-1) or 2 (SHA-256), with SHA-NI + SSE4.1
};

/// Whether this CPU can run `kernel`.
bool sha_kernel_supported(ShaKernel kernel);

/// The fastest kernel this CPU supports.
ShaKernel sha_kernel_best();

/// "scalar" or "shani".
const char* sha_kernel_name(ShaKernel kernel);

/// The SHA-1 of each of `count` (>= 0) messages: out[i] = SHA1(data[i], sizes[i]), 20 bytes each.
/// Messages may have any lengths (0 included; data[i] may then be null) and alignments, and
/// may share or overlap buffers. Throws std::invalid_argument for a negative count or an
/// unsupported kernel.
///
/// With ShaNi three streams run interleaved, the longest messages first: each
/// stream takes the next message as soon as its own is done, so only the ends
/// of the last messages run with fewer streams. A single message, or one far
/// longer than all the others together, gets one stream's speed (OpenSSL's).
void sha1_many(const uint8_t* const* data, const size_t* sizes, int count, uint8_t (*out)[20],
               ShaKernel kernel = sha_kernel_best());

/// The SHA-256 of each of `count` (>= 0) messages, 32 bytes each; otherwise as sha1_many,
/// but with two streams.
void sha256_many(const uint8_t* const* data, const size_t* sizes, int count, uint8_t (*out)[32],
                 ShaKernel kernel = sha_kernel_best());

}  // namespace hm
