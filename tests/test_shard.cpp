// Shard assignment, --shard parsing, manifests and the record counter.
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <string>

#include "shard.hpp"

namespace {

using hm::ShardSpec;

// Getenv over a fixed map, so no test depends on the environment it runs in.
auto env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(Shard, Fnv1a64PublishedVectors) {
  // From the FNV reference (Fowler, Noll, Vo: test vectors for FNV-1a 64).
  EXPECT_EQ(hm::fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(hm::fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(hm::fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(Shard, ShardOfIsStableAndInRange) {
  for (uint32_t n : {1u, 2u, 3u, 8u, 1000u}) {
    const uint32_t s = hm::shard_of("images/a/b.jpg", n);
    EXPECT_LT(s, n);
    EXPECT_EQ(hm::shard_of("images/a/b.jpg", n), s);
  }
  EXPECT_EQ(hm::shard_of("anything", 1), 0u);
  // Bytes, not text: a path with invalid UTF-8 and NULs still hashes.
  const std::string odd("a\xff\0b", 4);
  EXPECT_LT(hm::shard_of(odd, 7), 7u);
}

TEST(Shard, SpreadsNumberedPathsEvenly) {
  // Paths that differ in one digit: FNV-1a's lowest bit alone would follow
  // the parity of the digits; the finaliser must spread them.
  const uint32_t seed = 20240611;
  std::mt19937 rng(seed);
  for (uint32_t n : {2u, 3u, 8u}) {
    std::vector<int> counts(n, 0);
    const int paths = 24000;
    for (int i = 0; i < paths; ++i) {
      char name[64];
      snprintf(name, sizeof name, "/data/batch%02u/img_%06d.jpg", (unsigned)(rng() % 100), i);
      ++counts[hm::shard_of(name, n)];
    }
    const double expected = (double)paths / n;
    for (uint32_t s = 0; s < n; ++s)
      EXPECT_NEAR(counts[s], expected, expected * 0.05) << "seed " << seed << ", shard " << s << " of " << n;
  }
}

TEST(Shard, ParsesIndexOverCount) {
  const auto none = env_of({});
  const ShardSpec a = hm::parse_shard("0/3", none);
  EXPECT_EQ(a.index, 0u);
  EXPECT_EQ(a.count, 3u);
  EXPECT_TRUE(a.enabled());
  const ShardSpec b = hm::parse_shard("7/8", none);
  EXPECT_EQ(b.index, 7u);
  EXPECT_EQ(b.count, 8u);
  EXPECT_EQ(hm::parse_shard("0/1", none).count, 1u);
  EXPECT_FALSE(ShardSpec{}.enabled());
}

TEST(Shard, RejectsBadValues) {
  const auto none = env_of({});
  for (const char* bad : {"3/3", "4/3", "-1/3", "1/0", "0/0", "a/3", "1", "", "/3", "1/", "1/3/4", " 1/3",
                          "1/+3", "0/2000000", "99999999999/3"})
    EXPECT_THROW(hm::parse_shard(bad, none), std::invalid_argument) << bad;
}

TEST(Shard, AutoTakesSlurmThenKubernetesIndex) {
  EXPECT_EQ(hm::parse_shard("auto/8", env_of({{"SLURM_ARRAY_TASK_ID", "5"}})).index, 5u);
  EXPECT_EQ(hm::parse_shard("auto/8", env_of({{"JOB_COMPLETION_INDEX", "6"}})).index, 6u);
  EXPECT_EQ(hm::parse_shard("auto/8", env_of({{"SLURM_ARRAY_TASK_ID", "2"}, {"JOB_COMPLETION_INDEX", "6"}})).index,
            2u);
  EXPECT_THROW(hm::parse_shard("auto/8", env_of({})), std::invalid_argument);
  EXPECT_THROW(hm::parse_shard("auto/8", env_of({{"SLURM_ARRAY_TASK_ID", "8"}})), std::invalid_argument);
  EXPECT_THROW(hm::parse_shard("auto/8", env_of({{"JOB_COMPLETION_INDEX", "x"}})), std::invalid_argument);
  EXPECT_THROW(hm::parse_shard("auto/8", env_of({{"SLURM_ARRAY_TASK_ID", ""}})), std::invalid_argument);
}

TEST(Shard, RunKeySeparatesOperandsAndSettings) {
  const std::string k = hm::run_key({"ab", "c"}, "s");
  EXPECT_EQ(k.size(), 16u);
  EXPECT_EQ(hm::run_key({"ab", "c"}, "s"), k);
  EXPECT_NE(hm::run_key({"a", "bc"}, "s"), k);
  EXPECT_NE(hm::run_key({"ab", "c"}, "t"), k);
  EXPECT_NE(hm::run_key({"c", "ab"}, "s"), k);
}

TEST(Shard, ManifestRoundTripsAndRejectsBrokenOnes) {
  char dir[] = "/tmp/hm_shard_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/r.jsonl.shard.json";
  EXPECT_EQ(hm::shard_manifest_path(std::string(dir) + "/r.jsonl"), path);
  hm::ShardManifest m;
  m.shard = 2;
  m.shards = 5;
  m.records = 12345678901ull;
  m.report_bytes = 99;
  m.format = "csv";
  m.settings = "hash shards=5";
  m.operands = {"/data/a", std::string("/data/\xff")};
  m.run_key = hm::run_key(m.operands, m.settings);
  m.version = "test";
  hm::write_shard_manifest(path, m);
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0) << "the temporary file is renamed away";
  const hm::ShardManifest r = hm::read_shard_manifest(path);
  EXPECT_EQ(r.shard, 2u);
  EXPECT_EQ(r.shards, 5u);
  EXPECT_EQ(r.records, m.records);
  EXPECT_EQ(r.report_bytes, 99u);
  EXPECT_EQ(r.format, "csv");
  EXPECT_EQ(r.run_key, m.run_key);
  EXPECT_EQ(r.operands.at(0), "/data/a");
  EXPECT_EQ(r.operands.at(1), "/data/\xef\xbf\xbd");  // U+FFFD; the run key kept the byte

  auto expect_rejected = [&](const std::string& text) {
    std::ofstream(path) << text;
    EXPECT_THROW(hm::read_shard_manifest(path), std::runtime_error) << text;
  };
  expect_rejected("{");
  expect_rejected(R"({"complete":false,"shard":0,"shards":1,"records":0,"report_bytes":0,"format":"jsonl","run_key":"","settings":"","operands":[]})");
  expect_rejected(R"({"complete":true,"shard":1,"shards":1,"records":0,"report_bytes":0,"format":"jsonl","run_key":"","settings":"","operands":[]})");
  expect_rejected(R"({"complete":true,"shard":0,"shards":1,"records":0,"report_bytes":0,"format":"text","run_key":"","settings":"","operands":[]})");
  expect_rejected(R"({"complete":true,"shard":0,"shards":1,"report_bytes":0,"format":"jsonl","run_key":"","settings":"","operands":[]})");
  unlink(path.c_str());
  EXPECT_THROW(hm::read_shard_manifest(path), std::runtime_error);
  rmdir(dir);
}

TEST(Shard, CountsJsonlAndCsvRecordsAcrossChunks) {
  const std::string jsonl = "{\"a\":1}\n{\"b\":\"x\\ny\"}\n{}\n";
  const std::string csv = "path,status\n\"a\nb\",ok\n\"c\"\"\nd\",ok\nplain,ok\n";
  for (size_t chunk : {1ul, 2ul, 3ul, 1000ul}) {
    hm::ReportRecordCounter j(false), c(true);
    for (size_t i = 0; i < jsonl.size(); i += chunk) j.feed(std::string_view(jsonl).substr(i, chunk));
    for (size_t i = 0; i < csv.size(); i += chunk) c.feed(std::string_view(csv).substr(i, chunk));
    EXPECT_EQ(j.records(), 3u) << chunk;
    EXPECT_TRUE(j.ends_cleanly());
    EXPECT_EQ(c.records(), 3u) << chunk;
    EXPECT_TRUE(c.ends_cleanly());
  }
  hm::ReportRecordCounter cut(false);
  cut.feed("{}\n{\"a\"");
  EXPECT_EQ(cut.records(), 1u);
  EXPECT_FALSE(cut.ends_cleanly());
  hm::ReportRecordCounter open_quote(true);
  open_quote.feed("path\n\"a\n");
  EXPECT_FALSE(open_quote.ends_cleanly());
  hm::ReportRecordCounter empty(true);
  EXPECT_EQ(empty.records(), 0u);
  EXPECT_TRUE(empty.ends_cleanly());
}

}  // namespace
