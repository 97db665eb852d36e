// Exact digests of file bytes (OpenSSL libcrypto).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <string>

namespace hm {

enum class DigestType { Md5, Sha1, Sha256 };

/// Bytes of a digest: 16, 20, 32.
size_t digest_size(DigestType type);

/// The digest of data[0, size) (data may be null when size is 0) into
/// out[0, digest_size(type)), by OpenSSL: the scalar kernel of the multi-file
/// digests and the reference their tests compare against. Throws
/// std::runtime_error if OpenSSL fails.
void digest_bytes(DigestType type, const uint8_t* data, size_t size, uint8_t* out);

/// Lower-case hex digest of data[0, size).
std::string hex_digest(DigestType type, const uint8_t* data, size_t size);

/// Lower-case hex of arbitrary bytes.
std::string to_hex(const uint8_t* data, size_t size);

}  // namespace hm
