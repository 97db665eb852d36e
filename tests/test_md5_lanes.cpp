// md5_lanes (MD5 of up to eight messages at once) against OpenSSL's MD5, an
// independent implementation, and against the RFC 1321 test suite, for every
// kernel this CPU runs.
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
#include "md5_lanes.hpp"

namespace hm {

// gtest prints test parameters with this (found by argument-dependent lookup).
void PrintTo(Md5Kernel kernel, std::ostream* os) { *os << md5_kernel_name(kernel); }

namespace {

std::string openssl_md5(const uint8_t* data, size_t size) {
  static const uint8_t kEmpty = 0;
  uint8_t out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(size ? data : &kEmpty, size, out, &len, EVP_md5(), nullptr), 1);
  return to_hex(out, len);
}

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t size) {
  std::vector<uint8_t> bytes(size);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

class Md5Lanes : public ::testing::TestWithParam<Md5Kernel> {
 protected:
  void SetUp() override {
    if (!md5_kernel_supported(GetParam())) {
      GTEST_SKIP() << "this CPU cannot run the " << md5_kernel_name(GetParam()) << " kernel";
    }
  }

  /// md5_lanes over the messages, each digest checked against OpenSSL's; the
  /// output slots past the messages must stay untouched.
  void check(const std::vector<const uint8_t*>& data, const std::vector<size_t>& sizes) {
    const int count = static_cast<int>(data.size());
    uint8_t out[kMd5Lanes + 1][16];
    memset(out, 0xa5, sizeof(out));
    md5_lanes(data.data(), sizes.data(), count, out, GetParam());
    for (int i = 0; i < count; ++i) {
      EXPECT_EQ(to_hex(out[i], 16), openssl_md5(data[i], sizes[i]))
          << "lane " << i << " of " << count << ", " << sizes[i] << " bytes";
    }
    for (int i = count; i <= kMd5Lanes; ++i)
      for (int j = 0; j < 16; ++j) ASSERT_EQ(out[i][j], 0xa5) << "slot " << i << " written";
  }
};

TEST_P(Md5Lanes, EveryCount) {
  std::mt19937_64 rng(1);
  const std::vector<uint8_t> buf = random_bytes(rng, 4096);
  for (int count = 0; count <= kMd5Lanes; ++count) {
    std::vector<const uint8_t*> data;
    std::vector<size_t> sizes;
    for (int i = 0; i < count; ++i) {
      data.push_back(buf.data() + 37 * i);
      sizes.push_back(100 + 431 * static_cast<size_t>(i));
    }
    check(data, sizes);
  }
}

TEST_P(Md5Lanes, PaddingBoundaries) {
  // Lengths around the one/two padding block split (55/56) and block edges.
  const size_t kLengths[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128};
  std::mt19937_64 rng(2);
  const std::vector<uint8_t> buf = random_bytes(rng, 256);
  std::vector<size_t> all(std::begin(kLengths), std::end(kLengths));
  // All lanes one length, then each length beside others (every rotation of the list).
  for (size_t len : kLengths) {
    check(std::vector<const uint8_t*>(kMd5Lanes, buf.data()), std::vector<size_t>(kMd5Lanes, len));
  }
  for (size_t r = 0; r < all.size(); ++r) {
    std::vector<const uint8_t*> data;
    std::vector<size_t> sizes;
    for (int i = 0; i < kMd5Lanes; ++i) {
      data.push_back(buf.data() + i);
      sizes.push_back(all[(r + static_cast<size_t>(i)) % all.size()]);
    }
    check(data, sizes);
  }
}

TEST_P(Md5Lanes, RandomLengths) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 20; ++round) {
    const int count = 1 + static_cast<int>(rng() % kMd5Lanes);
    std::vector<std::vector<uint8_t>> bufs;
    std::vector<const uint8_t*> data;
    std::vector<size_t> sizes;
    for (int i = 0; i < count; ++i) {
      const size_t size = rng() % 100001;
      const size_t offset = rng() % 64;  // any alignment
      bufs.push_back(random_bytes(rng, size + offset));
      data.push_back(bufs.back().data() + offset);
      sizes.push_back(size);
    }
    check(data, sizes);
  }
}

TEST_P(Md5Lanes, LongMessageBesideTinyOnes) {
  std::mt19937_64 rng(4);
  const std::vector<uint8_t> big = random_bytes(rng, 3 * 1024 * 1024 + 13);
  const std::vector<uint8_t> small = random_bytes(rng, 200);
  const std::vector<size_t> small_sizes = {0, 1, 3, 55, 64, 100, 200};
  for (int big_lane : {0, 3, 7}) {
    std::vector<const uint8_t*> data;
    std::vector<size_t> sizes;
    for (int i = 0, s = 0; i < kMd5Lanes; ++i) {
      if (i == big_lane) {
        data.push_back(big.data() + 1);
        sizes.push_back(big.size() - 1);
      } else {
        data.push_back(small.data());
        sizes.push_back(small_sizes[s++]);
      }
    }
    check(data, sizes);
  }
}

TEST_P(Md5Lanes, UnalignedStarts) {
  std::mt19937_64 rng(5);
  const std::vector<uint8_t> buf = random_bytes(rng, 8192);
  for (size_t offset = 0; offset < 32; ++offset) {
    std::vector<const uint8_t*> data;
    std::vector<size_t> sizes;
    for (int i = 0; i < kMd5Lanes; ++i) {
      data.push_back(buf.data() + offset + static_cast<size_t>(i) * 3);
      sizes.push_back(1000 + static_cast<size_t>(i) * 517 + offset);
    }
    check(data, sizes);
  }
}

TEST_P(Md5Lanes, SameBufferInSeveralLanes) {
  std::mt19937_64 rng(6);
  const std::vector<uint8_t> buf = random_bytes(rng, 5000);
  check(std::vector<const uint8_t*>(kMd5Lanes, buf.data()), std::vector<size_t>(kMd5Lanes, 5000));
  check({buf.data(), buf.data(), buf.data() + 1, buf.data()}, {5000, 4999, 4999, 64});
}

TEST_P(Md5Lanes, Rfc1321TestSuite) {
  // RFC 1321, appendix A.5.
  const std::pair<std::string, std::string> kSuite[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
       "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  std::vector<const uint8_t*> data;
  std::vector<size_t> sizes;
  for (const auto& [msg, hex] : kSuite) {
    data.push_back(reinterpret_cast<const uint8_t*>(msg.data()));
    sizes.push_back(msg.size());
  }
  const std::string million_a(1000000, 'a');
  data.push_back(reinterpret_cast<const uint8_t*>(million_a.data()));
  sizes.push_back(million_a.size());
  ASSERT_EQ(data.size(), static_cast<size_t>(kMd5Lanes));
  uint8_t out[kMd5Lanes][16];
  md5_lanes(data.data(), sizes.data(), kMd5Lanes, out, GetParam());
  for (size_t i = 0; i < std::size(kSuite); ++i)
    EXPECT_EQ(to_hex(out[i], 16), kSuite[i].second) << '"' << kSuite[i].first << '"';
  EXPECT_EQ(to_hex(out[7], 16), "7707d6ae4e027c70eea2a935c2296f21") << "a million 'a'";
  // One at a time too: each lane alone, the others absent.
  for (size_t i = 0; i < std::size(kSuite); ++i) {
    uint8_t one[1][16];
    md5_lanes(&data[i], &sizes[i], 1, one, GetParam());
    EXPECT_EQ(to_hex(one[0], 16), kSuite[i].second) << '"' << kSuite[i].first << '"';
  }
}

TEST_P(Md5Lanes, InvalidCountThrows) {
  const uint8_t byte = 0;
  const uint8_t* data[kMd5Lanes + 1] = {};
  size_t sizes[kMd5Lanes + 1] = {};
  for (auto& d : data) d = &byte;
  uint8_t out[kMd5Lanes + 1][16];
  EXPECT_THROW(md5_lanes(data, sizes, -1, out, GetParam()), std::invalid_argument);
  EXPECT_THROW(md5_lanes(data, sizes, kMd5Lanes + 1, out, GetParam()), std::invalid_argument);
  EXPECT_NO_THROW(md5_lanes(data, sizes, 0, out, GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Md5Lanes, Md5Lanes,
                         ::testing::Values(Md5Kernel::Scalar, Md5Kernel::Avx2),
                         [](const ::testing::TestParamInfo<Md5Kernel>& info) {
                           return std::string(md5_kernel_name(info.param));
                         });

TEST(Md5LanesKernel, NamesAndBest) {
  EXPECT_STREQ(md5_kernel_name(Md5Kernel::Scalar), "scalar");
  EXPECT_STREQ(md5_kernel_name(Md5Kernel::Avx2), "avx2");
  EXPECT_TRUE(md5_kernel_supported(Md5Kernel::Scalar));
  EXPECT_TRUE(md5_kernel_supported(md5_kernel_best()));
  if (md5_kernel_supported(Md5Kernel::Avx2)) {
    EXPECT_EQ(md5_kernel_best(), Md5Kernel::Avx2);
  }
}

TEST(Md5LanesKernel, UnsupportedKernelThrows) {
  if (md5_kernel_supported(Md5Kernel::Avx2)) GTEST_SKIP() << "this CPU runs every kernel";
  const uint8_t byte = 0;
  const uint8_t* data[1] = {&byte};
  const size_t sizes[1] = {1};
  uint8_t out[1][16];
  EXPECT_THROW(md5_lanes(data, sizes, 1, out, Md5Kernel::Avx2), std::invalid_argument);
}

}  // namespace
}  // namespace hm
