// Exact digests against the published known-answer vectors (RFC 1321 for MD5,
// FIPS 180-2 / RFC 3174 / RFC 6234 for SHA-1 and SHA-256).
#include <gtest/gtest.h>

#include <stdint.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "digest.hpp"

namespace {

using hm::DigestType;

std::string digest_of(DigestType type, const std::string& s) {
  return hm::hex_digest(type, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

const std::string kMsg448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const std::string kMillionA(1000000, 'a');

TEST(Digest, Md5KnownAnswers) {
  EXPECT_EQ(digest_of(DigestType::Md5, ""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(digest_of(DigestType::Md5, "abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(digest_of(DigestType::Md5, kMsg448), "8215ef0796a20bcaaae116d3876c664a");
  EXPECT_EQ(digest_of(DigestType::Md5, kMillionA), "7707d6ae4e027c70eea2a935c2296f21");
  // RFC 1321 appendix A.5.
  EXPECT_EQ(digest_of(DigestType::Md5, "message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(digest_of(DigestType::Md5, "abcdefghijklmnopqrstuvwxyz"),
            "c3fcd3d76192e4007dfb496cca67e13b");
}

TEST(Digest, Sha1KnownAnswers) {
  EXPECT_EQ(digest_of(DigestType::Sha1, ""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(digest_of(DigestType::Sha1, "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(digest_of(DigestType::Sha1, kMsg448), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(digest_of(DigestType::Sha1, kMillionA), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Digest, Sha256KnownAnswers) {
  EXPECT_EQ(digest_of(DigestType::Sha256, ""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(digest_of(DigestType::Sha256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(digest_of(DigestType::Sha256, kMsg448),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(digest_of(DigestType::Sha256, kMillionA),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Digest, NullPointerWithZeroSizeIsTheEmptyMessage) {
  EXPECT_EQ(hm::hex_digest(DigestType::Md5, nullptr, 0), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hm::hex_digest(DigestType::Sha1, nullptr, 0),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hm::hex_digest(DigestType::Sha256, nullptr, 0),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Digest, BinaryInputWithNulBytes) {
  // The digest covers every byte, NULs included: "a\0b" differs from "a".
  const std::string with_nul("a\0b", 3);
  EXPECT_NE(digest_of(DigestType::Md5, with_nul), digest_of(DigestType::Md5, "a"));
  EXPECT_EQ(digest_of(DigestType::Md5, "a"), "0cc175b9c0f1b6a831c399e269772661");
}

TEST(Digest, LengthsAndCase) {
  for (DigestType t : {DigestType::Md5, DigestType::Sha1, DigestType::Sha256}) {
    const std::string hex = digest_of(t, "hashmatch");
    const size_t expected = t == DigestType::Md5 ? 32 : t == DigestType::Sha1 ? 40 : 64;
    EXPECT_EQ(hex.size(), expected);
    EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
  }
}

TEST(Digest, ToHex) {
  EXPECT_EQ(hm::to_hex(nullptr, 0), "");
  const uint8_t bytes[] = {0x00, 0x01, 0x0f, 0x10, 0x7f, 0x80, 0xa5, 0xf0, 0xfe, 0xff};
  EXPECT_EQ(hm::to_hex(bytes, sizeof bytes), "00010f107f80a5f0feff");
  std::vector<uint8_t> all(256);
  std::string expected;
  for (int i = 0; i < 256; ++i) {
    all[i] = (uint8_t)i;
    char buf[3];
    snprintf(buf, sizeof buf, "%02x", i);
    expected += buf;
  }
  EXPECT_EQ(hm::to_hex(all.data(), all.size()), expected);
}

}  // namespace
