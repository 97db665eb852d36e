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

std::string hex_digest(DigestType type, const uint8_t* data, size_t size) {
  const EVP_MD* md = type == DigestType::Md5    ? EVP_md5()
                     : type == DigestType::Sha1 ? EVP_sha1()
                                                : EVP_sha256();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data, size, out, &len, md, nullptr) != 1)
    throw std::runtime_error("OpenSSL digest failed");
  return to_hex(out, len);
}

}  // namespace hm
