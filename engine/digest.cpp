#include "digest.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace hm {

std::string to_hex(const uint8_t* data, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex(2 * size, '0');
  for (size_t i = 0; i < size; ++i) {
    hex[2 * i] = kDigits[data[i] >> 4];
    hex[2 * i + 1] = kDigits[data[i] & 15];
  }
  return hex;
}

size_t digest_size(DigestType type) {
  return type == DigestType::Md5 ? 16 : type == DigestType::Sha1 ? 20 : 32;
}

void digest_bytes(DigestType type, const uint8_t* data, size_t size, uint8_t* out) {
  const EVP_MD* md = type == DigestType::Md5    ? EVP_md5()
                     : type == DigestType::Sha1 ? EVP_sha1()
                                                : EVP_sha256();
  static const uint8_t kEmpty = 0;  // OpenSSL wants a pointer even for no bytes
  unsigned int len = 0;
  if (EVP_Digest(size ? data : &kEmpty, size, out, &len, md, nullptr) != 1 ||
      len != digest_size(type))
    throw std::runtime_error("OpenSSL digest failed");
}

std::string hex_digest(DigestType type, const uint8_t* data, size_t size) {
  uint8_t out[32];
  digest_bytes(type, data, size, out);
  return to_hex(out, digest_size(type));
}

}  // namespace hm
