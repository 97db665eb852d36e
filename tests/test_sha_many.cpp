// sha1_many and sha256_many (SHA-1 / SHA-256 of several messages, a few
// interleaved) against OpenSSL's SHA-1 and SHA-256, an independent implementation,
// and against the FIPS 180 example digests, for every kernel this CPU runs.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <string.h>

#include <iterator>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "digest.hpp"
#include "sha_many.hpp"

namespace hm {

// gtest prints test parameters with this (found by argument-dependent lookup).
void PrintTo(ShaKernel kernel, std::ostream* os) { *os << sha_kernel_name(kernel); }

namespace {

constexpr int kMaxCount = 8;  // the most messages the tests hash in one call

std::string openssl_digest(const EVP_MD* md, const uint8_t* data, size_t size) {
  static const uint8_t kEmpty = 0;
  uint8_t out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(size ? data : &kEmpty, size, out, &len, md, nullptr), 1);
  return to_hex(out, len);
}

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t size) {
  std::vector<uint8_t> bytes(size);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

class ShaMany : public ::testing::TestWithParam<ShaKernel> {
 protected:
  void SetUp() override {
    if (!sha_kernel_supported(GetParam())) {
      GTEST_SKIP() << "this CPU cannot run the " << sha_kernel_name(GetParam()) << " kernel";
    }
  }

  /// sha1_many and sha256_many over the messages, each digest checked against
  /// OpenSSL's; the output slots past the messages must stay untouched.
  void check(const std::vector<const uint8_t*>& data, const std::vector<size_t>& sizes) {
    const int count = static_cast<int>(data.size());
    ASSERT_LE(count, kMaxCount);
    uint8_t out1[kMaxCount + 1][20];
    uint8_t out256[kMaxCount + 1][32];
    memset(out1, 0xa5, sizeof(out1));
    memset(out256, 0xa5, sizeof(out256));
    sha1_many(data.data(), sizes.data(), count, out1, GetParam());
    sha256_many(data.data(), sizes.data(), count, out256, GetParam());
    for (int i = 0; i < count; ++i) {
      EXPECT_EQ(to_hex(out1[i], 20), openssl_digest(EVP_sha1(), data[i], sizes[i]))
          << "SHA-1, message " << i << " of " << count << ", " << sizes[i] << " bytes";
      EXPECT_EQ(to_hex(out256[i], 32), openssl_digest(EVP_sha256(), data[i], sizes[i]))
          << "SHA-256, message " << i << " of " << count << ", " << sizes[i] << " bytes";
    }
    for (int i = count; i <= kMaxCount; ++i) {
      for (int j = 0; j < 20; ++j) ASSERT_EQ(out1[i][j], 0xa5) << "SHA-1 slot " << i << " written";
      for (int j = 0; j < 32; ++j) ASSERT_EQ(out256[i][j], 0xa5) << "SHA-256 slot " << i << " written";
    }
  }
};

TEST_P(ShaMany, EveryCount) {
  std::mt19937_64 rng(1);
  const std::vector<uint8_t> buf = random_bytes(rng, 4096);
  for (int count = 0; count <= kMaxCount; ++count) {
    std::vector<const uint8_t*> data;
    std::vector<size_t> sizes;
    for (int i = 0; i < count; ++i) {
      data.push_back(buf.data() + 37 * i);
      sizes.push_back(100 + 431 * static_cast<size_t>(i));
    }
    check(data, sizes);
  }
}

TEST_P(ShaMany, PaddingBoundaries) {
  // Lengths around the one/two padding block split (55/56) and block edges.
  const size_t kLengths[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 129, 191, 192};
  std::mt19937_64 rng(2);
  const std::vector<uint8_t> buf = random_bytes(rng, 256);
  // All messages one length, every length beside every other (two messages), and
  // every rotation of the list, eight at a time.
  for (size_t len : kLengths) {
    check(std::vector<const uint8_t*>(kMaxCount, buf.data()), std::vector<size_t>(kMaxCount, len));
  }
  for (size_t a : kLengths)
    for (size_t b : kLengths) check({buf.data(), buf.data() + 3}, {a, b});
  std::vector<size_t> all(std::begin(kLengths), std::end(kLengths));
  for (size_t r = 0; r < all.size(); ++r) {
    std::vector<const uint8_t*> data;
    std::vector<size_t> sizes;
    for (int i = 0; i < kMaxCount; ++i) {
      data.push_back(buf.data() + i);
      sizes.push_back(all[(r + static_cast<size_t>(i)) % all.size()]);
    }
    check(data, sizes);
  }
}

TEST_P(ShaMany, RandomLengths) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 20; ++round) {
    const int count = 1 + static_cast<int>(rng() % kMaxCount);
    std::vector<std::vector<uint8_t>> bufs;
    std::vector<const uint8_t*> data;
    std::vector<size_t> sizes;
    for (int i = 0; i < count; ++i) {
      const size_t size = rng() % 300001;
      const size_t offset = rng() % 64;  // any alignment
      bufs.push_back(random_bytes(rng, size + offset));
      data.push_back(bufs.back().data() + offset);
      sizes.push_back(size);
    }
    check(data, sizes);
  }
}

TEST_P(ShaMany, VeryDifferentLengths) {
  std::mt19937_64 rng(4);
  const std::vector<uint8_t> big = random_bytes(rng, (1 << 20) + 13);
  const std::vector<uint8_t> small = random_bytes(rng, 200);
  // Two: 1 MB beside 0 bytes (null data) or a few bytes, either order.
  for (size_t small_size : {0, 1, 3, 55, 64, 200}) {
    const uint8_t* tiny = small_size ? small.data() : nullptr;
    check({big.data() + 1, tiny}, {big.size() - 1, small_size});
    check({tiny, big.data()}, {small_size, big.size()});
  }
  // Three messages: the long one beside the other two in turn.
  check({small.data(), big.data(), big.data() + 5}, {100, big.size(), 4096});
  // The long one in one stream while the other goes through seven short ones.
  for (int big_slot : {0, 3, 7}) {
    const std::vector<size_t> small_sizes = {0, 1, 3, 55, 64, 100, 200};
    std::vector<const uint8_t*> data;
    std::vector<size_t> sizes;
    for (int i = 0, s = 0; i < kMaxCount; ++i) {
      if (i == big_slot) {
        data.push_back(big.data() + 1);
        sizes.push_back(big.size() - 1);
      } else {
        data.push_back(small_sizes[s] ? small.data() : nullptr);
        sizes.push_back(small_sizes[s++]);
      }
    }
    check(data, sizes);
  }
}

TEST_P(ShaMany, UnalignedStarts) {
  std::mt19937_64 rng(5);
  const std::vector<uint8_t> buf = random_bytes(rng, 8192);
  for (size_t offset = 0; offset < 32; ++offset) {
    std::vector<const uint8_t*> data;
    std::vector<size_t> sizes;
    for (int i = 0; i < kMaxCount; ++i) {
      data.push_back(buf.data() + offset + static_cast<size_t>(i) * 3);
      sizes.push_back(1000 + static_cast<size_t>(i) * 517 + offset);
    }
    check(data, sizes);
  }
}

TEST_P(ShaMany, SameBufferTwice) {
  std::mt19937_64 rng(6);
  const std::vector<uint8_t> buf = random_bytes(rng, 5000);
  check({buf.data(), buf.data()}, {5000, 5000});
  check(std::vector<const uint8_t*>(kMaxCount, buf.data()), std::vector<size_t>(kMaxCount, 5000));
  check({buf.data(), buf.data(), buf.data() + 1, buf.data()}, {5000, 4999, 4999, 64});
}

TEST_P(ShaMany, MoreThanEightMessages) {
  std::mt19937_64 rng(7);
  const std::vector<uint8_t> buf = random_bytes(rng, 3000);
  const int count = 13;
  std::vector<const uint8_t*> data;
  std::vector<size_t> sizes;
  for (int i = 0; i < count; ++i) {
    data.push_back(buf.data() + i);
    sizes.push_back(static_cast<size_t>(i) * 211);
  }
  uint8_t out1[count][20], out256[count][32];
  sha1_many(data.data(), sizes.data(), count, out1, GetParam());
  sha256_many(data.data(), sizes.data(), count, out256, GetParam());
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(to_hex(out1[i], 20), openssl_digest(EVP_sha1(), data[i], sizes[i])) << i;
    EXPECT_EQ(to_hex(out256[i], 32), openssl_digest(EVP_sha256(), data[i], sizes[i])) << i;
  }
}

TEST_P(ShaMany, Fips180Examples) {
  // The FIPS 180 examples (NIST's "Cryptographic Standards and Guidelines:
  // Examples with Intermediate Values" for SHA-1 and SHA-256), plus one
  // million 'a' (FIPS 180-1 / 180-2 appendices).
  struct Case {
    std::string msg, sha1, sha256;
  };
  const Case kCases[] = {
      {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d",
       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {std::string(1000000, 'a'), "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
      {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
  };
  std::vector<const uint8_t*> data;
  std::vector<size_t> sizes;
  for (const Case& c : kCases) {
    data.push_back(reinterpret_cast<const uint8_t*>(c.msg.data()));
    sizes.push_back(c.msg.size());
  }
  const int count = static_cast<int>(std::size(kCases));
  uint8_t out1[std::size(kCases)][20], out256[std::size(kCases)][32];
  sha1_many(data.data(), sizes.data(), count, out1, GetParam());
  sha256_many(data.data(), sizes.data(), count, out256, GetParam());
  for (int i = 0; i < count; ++i) {
    const std::string what = kCases[i].msg.size() > 100 ? "a million 'a'" : '"' + kCases[i].msg + '"';
    EXPECT_EQ(to_hex(out1[i], 20), kCases[i].sha1) << what;
    EXPECT_EQ(to_hex(out256[i], 32), kCases[i].sha256) << what;
    // Alone too (one stream).
    uint8_t one1[1][20], one256[1][32];
    sha1_many(&data[i], &sizes[i], 1, one1, GetParam());
    sha256_many(&data[i], &sizes[i], 1, one256, GetParam());
    EXPECT_EQ(to_hex(one1[0], 20), kCases[i].sha1) << what << " alone";
    EXPECT_EQ(to_hex(one256[0], 32), kCases[i].sha256) << what << " alone";
  }
}

TEST_P(ShaMany, NegativeCountThrows) {
  const uint8_t byte = 0;
  const uint8_t* data[1] = {&byte};
  size_t sizes[1] = {1};
  uint8_t out1[1][20];
  uint8_t out256[1][32];
  EXPECT_THROW(sha1_many(data, sizes, -1, out1, GetParam()), std::invalid_argument);
  EXPECT_THROW(sha256_many(data, sizes, -1, out256, GetParam()), std::invalid_argument);
  EXPECT_NO_THROW(sha1_many(data, sizes, 0, out1, GetParam()));
  EXPECT_NO_THROW(sha256_many(data, sizes, 0, out256, GetParam()));
}

INSTANTIATE_TEST_SUITE_P(ShaMany, ShaMany, ::testing::Values(ShaKernel::Scalar, ShaKernel::ShaNi),
                         [](const ::testing::TestParamInfo<ShaKernel>& info) {
                           return std::string(sha_kernel_name(info.param));
                         });

TEST(ShaManyKernel, NamesAndBest) {
  EXPECT_STREQ(sha_kernel_name(ShaKernel::Scalar), "scalar");
  EXPECT_STREQ(sha_kernel_name(ShaKernel::ShaNi), "shani");
  EXPECT_TRUE(sha_kernel_supported(ShaKernel::Scalar));
  EXPECT_TRUE(sha_kernel_supported(sha_kernel_best()));
  if (sha_kernel_supported(ShaKernel::ShaNi)) {
    EXPECT_EQ(sha_kernel_best(), ShaKernel::ShaNi);
  }
}

TEST(ShaManyKernel, UnsupportedKernelThrows) {
  if (sha_kernel_supported(ShaKernel::ShaNi)) GTEST_SKIP() << "this CPU runs every kernel";
  const uint8_t byte = 0;
  const uint8_t* data[1] = {&byte};
  const size_t sizes[1] = {1};
  uint8_t out1[1][20];
  uint8_t out256[1][32];
  EXPECT_THROW(sha1_many(data, sizes, 1, out1, ShaKernel::ShaNi), std::invalid_argument);
  EXPECT_THROW(sha256_many(data, sizes, 1, out256, ShaKernel::ShaNi), std::invalid_argument);
}

}  // namespace
}  // namespace hm
