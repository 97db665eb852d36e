// FileHasher::hash_files: a group of files read side by side, their MD5s in
// SIMD lanes, gives record for record what hash_file gives one at a time,
// failures, empty and oversized files included.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "file_hasher.hpp"
#include "md5_lanes.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kImages = std::string(HM_TEST_DATA) + "/pdq-golden/images/";

struct Scratch {
  Scratch() {
    char pattern[] = "/tmp/hm-file-hasher-XXXXXX";
    dir = mkdtemp(pattern);
  }
  ~Scratch() { fs::remove_all(dir); }
  std::string dir;
};

void expect_same(const hm::HashRecord& got, const hm::HashRecord& want) {
  SCOPED_TRACE(want.path);
  EXPECT_EQ(got.path, want.path);
  EXPECT_EQ(got.error, want.error);
  EXPECT_EQ(got.bytes, want.bytes);
  EXPECT_EQ(got.md5, want.md5);
  EXPECT_EQ(got.sha1, want.sha1);
  EXPECT_EQ(got.sha256, want.sha256);
  EXPECT_EQ(got.has_pdq, want.has_pdq);
  EXPECT_EQ(got.pdq, want.pdq);
  EXPECT_EQ(got.quality, want.quality);
  EXPECT_EQ(got.width, want.width);
  EXPECT_EQ(got.warnings, want.warnings);
}

TEST(FileHasher, HashFilesGivesWhatHashFileGives) {
  Scratch s;
  const std::string empty = s.dir + "/empty.jpg";
  std::ofstream(empty).close();
  // Above kLaneFileBytes: hashed on its own, beside the lanes.
  const std::string large = s.dir + "/large.bin";
  {
    std::mt19937_64 rng(31);
    std::string bytes(hm::kLaneFileBytes + 4097, '\0');
    for (char& c : bytes) c = (char)rng();
    std::ofstream(large, std::ios::binary) << bytes;
  }
  const std::vector<std::vector<std::string>> groups = {
      {kImages + "skimage_astronaut__orig.jpg", s.dir + "/missing.jpg", large,
       kImages + "skimage_astronaut__palette_png.png", s.dir, kImages + "skimage_astronaut__orig.jpg",
       empty, kImages + "fail_text_as_jpeg__orig.jpg"},
      {kImages + "skimage_coins__orig.jpg"},
      {},
      {large, kImages + "skimage_moon__orig.jpg", kImages + "skimage_camera__orig.jpg"}};
  hm::HashOptions options;
  options.dihedral = true;
  hm::FileHasher one_by_one(options), grouped(options);
  std::vector<hm::HashRecord> out;
  for (const auto& paths : groups) {
    grouped.hash_files(paths, out);
    ASSERT_EQ(out.size(), paths.size());
    for (size_t i = 0; i < paths.size(); ++i) expect_same(out[i], one_by_one.hash_file(paths[i]));
  }
  // The group really held ok files, failures and the large one.
  grouped.hash_files(groups[0], out);
  EXPECT_TRUE(out[0].error.empty());
  EXPECT_FALSE(out[1].error.empty());
  EXPECT_EQ(out[2].bytes, hm::kLaneFileBytes + 4097);
  EXPECT_FALSE(out[2].md5.empty());
  EXPECT_EQ(out[6].md5, "d41d8cd98f00b204e9800998ecf8427e");  // MD5 of nothing (RFC 1321)
}

TEST(FileHasher, HashFilesTakesAtMostOneGroup) {
  hm::FileHasher hasher(hm::HashOptions{});
  std::vector<hm::HashRecord> out;
  EXPECT_THROW(hasher.hash_files(std::vector<std::string>(hm::kMd5Lanes + 1, kImages), out),
               std::invalid_argument);
}

}  // namespace
