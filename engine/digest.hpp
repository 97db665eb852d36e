// Exact digests of file bytes (OpenSSL libcrypto).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <string>

namespace hm {

enum class DigestType { Md5, Sha1, Sha256 };

/// Lower-case hex digest of data[0, size).
std::string hex_digest(DigestType type, const uint8_t* data, size_t size);

/// Lower-case hex of arbitrary bytes.
std::string to_hex(const uint8_t* data, size_t size);

}  // namespace hm
