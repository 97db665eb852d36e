// MD5 of up to eight independent messages at once ("multi-buffer"): with AVX2
// each message runs in one 32-bit lane of the vector registers, so the eight
// serial MD5 dependency chains advance side by side. The scalar kernel is
// OpenSSL's MD5 per message, one after another.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace hm {

/// Messages one md5_lanes call hashes together, at most.
constexpr int kMd5Lanes = 8;

/// The instruction set md5_lanes runs with.
enum class Md5Kernel {
  Scalar,  ///< OpenSSL's MD5 (EVP_md5), message by message
  Avx2,    ///< eight messages in the 32-bit lanes of AVX2 registers
};

/// Whether this CPU can run `kernel`.
bool md5_kernel_supported(Md5Kernel kernel);

/// The fastest kernel this CPU supports.
Md5Kernel md5_kernel_best();

/// "scalar" or "avx2".
const char* md5_kernel_name(Md5Kernel kernel);

/// The MD5 of each of `count` (0..kMd5Lanes) messages: out[i] = MD5(data[i], sizes[i]), 16 bytes each.
/// Messages may have any lengths (0 included) and alignments; they are hashed together
/// while all have blocks left, then the rest as the lanes finish. Throws std::invalid_argument
/// for count outside 0..kMd5Lanes or an unsupported kernel.
///
/// With Avx2 the lanes' work is that of their longest message for all eight
/// lanes: a lane that finished early (or a missing one) still computes, on a
/// dummy block. So the shortest messages take the lanes and the longest go to
/// OpenSSL, at the split the two kernels' measured speeds make cheapest (a
/// lone long message beside short ones runs on OpenSSL). Messages of similar
/// lengths give full throughput.
void md5_lanes(const uint8_t* const* data, const size_t* sizes, int count, uint8_t (*out)[16],
               Md5Kernel kernel = md5_kernel_best());

}  // namespace hm
