// HashIndex: every exact type returns exactly the brute-force set, index
// files round-trip and refuse foreign, truncated and corrupt files, and the
// approximate types' recall is measured.
#include <gtest/gtest.h>
#include <stdio.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "hash_index.hpp"
#include "index_file.hpp"
#include "match_test_support.hpp"

namespace hm {
namespace {

using test::Code;

constexpr uint64_t kSeed = 20261128;

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "hm_index_" + std::to_string(getpid()) + "_" + name;
}

std::vector<Code> make_queries(std::mt19937_64& rng, int n) {
  std::vector<Code> q;
  for (int i = 0; i < n; ++i) q.push_back(test::random_code(rng));
  return q;
}

std::vector<uint8_t> flatten(const std::vector<Code>& codes) {
  std::vector<uint8_t> out;
  for (const auto& c : codes) out.insert(out.end(), c.begin(), c.end());
  return out;
}

class ExactIndexTypes : public ::testing::TestWithParam<std::string> {};

TEST_P(ExactIndexTypes, RangeEqualsBruteForceAtEveryPlantedDistance) {
  std::mt19937_64 rng(kSeed);
  const std::vector<Code> queries = make_queries(rng, 6);
  for (const size_t random : {size_t(0), size_t(1), size_t(3000)}) {
    const RefList list = test::planted_list(queries, 40, random, rng);
    const HashIndex index = HashIndex::build(list, IndexSpec::parse(GetParam()));
    EXPECT_TRUE(index.exact());
    const std::vector<uint8_t> flat = flatten(queries);
    for (const int t : {0, 1, 7, 15, 31, 32, 40, 64}) {
      const IndexHits hits = index.range(flat.data(), queries.size(), t);
      for (size_t q = 0; q < queries.size(); ++q) {
        const auto expected = test::brute_force(list, queries[q].data(), t);
        ASSERT_TRUE(test::same_hits(hits[q], expected))
            << GetParam() << " seed " << kSeed << " random " << random << " t " << t << " query " << q
            << ": " << hits[q].size() << " hits, expected " << expected.size();
        for (const auto& h : hits[q]) ASSERT_LE(h.distance, t);
      }
    }
  }
}

TEST_P(ExactIndexTypes, TopKEqualsBruteForceWithTies) {
  std::mt19937_64 rng(kSeed + 1);
  const std::vector<Code> queries = make_queries(rng, 4);
  RefList list = test::planted_list(queries, 33, 2000, rng);
  // Duplicates: equal distances, broken by reference order.
  for (size_t i = 0; i < 20; ++i) list.append(list.code(i * 7), "dup" + std::to_string(i));
  const HashIndex index = HashIndex::build(list, IndexSpec::parse(GetParam()));
  const std::vector<uint8_t> flat = flatten(queries);
  for (const size_t k : {size_t(1), size_t(5), size_t(40)}) {
    for (const int t : {31, 256}) {
      const IndexHits hits = index.top_k(flat.data(), queries.size(), k, t);
      for (size_t q = 0; q < queries.size(); ++q) {
        auto expected = test::brute_force(list, queries[q].data(), t);
        if (expected.size() > k) expected.resize(k);
        ASSERT_TRUE(test::same_hits(hits[q], expected)) << GetParam() << " k " << k << " t " << t;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(HashIndex, ExactIndexTypes,
                         ::testing::Values("flat", "mih", "mih,bits=12", "mih,bits=20", "auto"));

TEST(HashIndex, AutoPicksFlatForSmallListsAndMihForLarge) {
  std::mt19937_64 rng(kSeed + 2);
  RefList small;
  small.append(test::random_code(rng).data(), "a");
  EXPECT_EQ(HashIndex::build(small, IndexSpec::parse("auto")).type(), "flat");
  RefList large;
  for (int i = 0; i < 70000; ++i) large.append(test::random_code(rng).data(), "");
  EXPECT_EQ(HashIndex::build(large, IndexSpec::parse("auto")).type(), "mih");
}

TEST(HashIndex, DigestListsAreExactSetsKeepingDuplicates) {
  std::mt19937_64 rng(kSeed + 3);
  RefList list;
  list.signal = SignalType::Md5;
  std::vector<Code> codes;
  for (int i = 0; i < 500; ++i) codes.push_back(test::random_code(rng, 16));
  for (int i = 0; i < 500; ++i) list.append(codes[i].data(), "m" + std::to_string(i));
  list.append(codes[17].data(), "again");  // same digest, another id
  const HashIndex index = HashIndex::build(list, IndexSpec::parse("auto"));
  EXPECT_EQ(index.type(), "set");
  const IndexHits hits = index.range(codes[17].data(), 1, 0);
  ASSERT_EQ(hits[0].size(), 2u);
  EXPECT_EQ(index.id(hits[0][0].ref), "m17");
  EXPECT_EQ(index.id(hits[0][1].ref), "again");
  Code absent = codes[3];
  absent[0] ^= 1;
  EXPECT_TRUE(index.range(absent.data(), 1, 0)[0].empty());
  EXPECT_THROW(HashIndex::build(list, IndexSpec::parse("mih")), std::invalid_argument);
}

TEST(HashIndex, SpecParsingRejectsUnknownTypesAndParameters) {
  EXPECT_EQ(IndexSpec::parse("hnsw,M=16,ef=64").to_string(), "hnsw,M=16,ef=64");
  EXPECT_THROW(IndexSpec::parse("lsh"), std::invalid_argument);
  EXPECT_THROW(IndexSpec::parse("mih,nbits=3"), std::invalid_argument);
  EXPECT_THROW(IndexSpec::parse("ivf,nlist"), std::invalid_argument);
  EXPECT_THROW(IndexSpec::parse("ivf,nlist=-3"), std::invalid_argument);
  EXPECT_THROW(IndexSpec::parse(""), std::invalid_argument);
  RefList pdq;
  EXPECT_THROW(HashIndex::build(pdq, IndexSpec::parse("set")), std::invalid_argument);
}

// ---- index files -----------------------------------------------------------

class SavedIndexTypes : public ::testing::TestWithParam<std::string> {};

TEST_P(SavedIndexTypes, SaveLoadKeepsIdsMetadataAndResults) {
  std::mt19937_64 rng(kSeed + 4);
  const std::vector<Code> queries = make_queries(rng, 3);
  RefList list = test::planted_list(queries, 31, 3000, rng);
  list.metadata_columns = {"source", "note"};
  for (size_t i = 0; i < list.size(); ++i) {
    list.metadata_values.push_back("src" + std::to_string(i % 7));
    list.metadata_values.push_back(i % 2 ? "" : "n,\"quoted\"\n" + std::to_string(i));
  }
  list.source = "lists/known.csv";
  const HashIndex built = HashIndex::build(list, IndexSpec::parse(GetParam()));
  const std::string path = temp_path("roundtrip_" + std::to_string(std::hash<std::string>()(GetParam())));
  built.save(path);
  const HashIndex loaded = HashIndex::load(path);
  EXPECT_EQ(loaded.type(), built.type());
  EXPECT_EQ(loaded.signal(), SignalType::Pdq);
  EXPECT_EQ(loaded.exact(), built.exact());
  EXPECT_EQ(loaded.source(), "lists/known.csv");
  ASSERT_EQ(loaded.size(), list.size());
  ASSERT_EQ(loaded.metadata_columns(), list.metadata_columns);
  for (size_t i = 0; i < list.size(); ++i) {
    ASSERT_EQ(loaded.id(i), list.ids[i]);
    ASSERT_EQ(loaded.hash_hex(i), hex_of_code(list.code(i), 32));
    ASSERT_EQ(loaded.metadata(i, 0), list.metadata_values[i * 2]);
    ASSERT_EQ(loaded.metadata(i, 1), list.metadata_values[i * 2 + 1]);
  }
  const std::vector<uint8_t> flat = flatten(queries);
  const IndexHits a = built.range(flat.data(), queries.size(), 31);
  const IndexHits b = loaded.range(flat.data(), queries.size(), 31);
  for (size_t q = 0; q < queries.size(); ++q) EXPECT_TRUE(test::same_hits(a[q], b[q])) << GetParam();
  unlink(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(HashIndex, SavedIndexTypes,
                         ::testing::Values("flat", "mih", "mih,bits=14", "hnsw,M=16", "ivf,nlist=16"));

TEST(HashIndexFile, DigestIndexRoundTrips) {
  std::mt19937_64 rng(kSeed + 5);
  RefList list;
  list.signal = SignalType::Sha256;
  for (int i = 0; i < 100; ++i) list.append(test::random_code(rng, 32).data(), "s" + std::to_string(i));
  const std::string path = temp_path("sha256");
  HashIndex::build(list, IndexSpec::parse("auto")).save(path);
  const HashIndex loaded = HashIndex::load(path);
  EXPECT_EQ(loaded.signal(), SignalType::Sha256);
  EXPECT_EQ(loaded.type(), "set");
  const IndexHits hits = loaded.range(list.code(42), 1, 0);
  ASSERT_EQ(hits[0].size(), 1u);
  EXPECT_EQ(loaded.id(hits[0][0].ref), "s42");
  unlink(path.c_str());
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), (std::streamsize)bytes.size());
}

std::string load_error(const std::string& path) {
  try {
    HashIndex::load(path);
  } catch (const IndexFileError& e) {
    return e.what();
  }
  return "(loaded)";
}

TEST(HashIndexFile, RefusesForeignTruncatedAndCorruptFiles) {
  std::mt19937_64 rng(kSeed + 6);
  RefList list = test::planted_list(make_queries(rng, 2), 10, 200, rng);
  const std::string good = temp_path("good");
  HashIndex::build(list, IndexSpec::parse("flat")).save(good);
  const std::string bytes = read_all(good);
  const std::string bad = temp_path("bad");

  EXPECT_NE(load_error(temp_path("missing")).find("cannot open"), std::string::npos);

  write_all(bad, "\x89PNG\r\n\x1a\n not an index at all");
  std::string e = load_error(bad);
  EXPECT_EQ(e.rfind(bad, 0), 0u) << e;  // names the file first
  EXPECT_NE(e.find("not a hashmatch index"), std::string::npos) << e;

  for (const size_t keep : {size_t(0), size_t(5), size_t(20), bytes.size() / 2, bytes.size() - 1}) {
    write_all(bad, bytes.substr(0, keep));
    e = load_error(bad);
    EXPECT_EQ(e.rfind(bad, 0), 0u) << e;
    EXPECT_TRUE(e.find("truncated") != std::string::npos || e.find("not a hashmatch index") != std::string::npos)
        << "kept " << keep << ": " << e;
  }

  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  write_all(bad, flipped);
  EXPECT_NE(load_error(bad).find("checksum mismatch"), std::string::npos);

  std::string future = bytes;
  future[8] = 99;  // the format version
  write_all(bad, future);
  EXPECT_NE(load_error(bad).find("version 99 is not supported"), std::string::npos) << load_error(bad);
  unlink(good.c_str());
  unlink(bad.c_str());
}

TEST(HashIndexFile, UnwritablePathIsAnErrorNamingIt) {
  RefList list;
  const HashIndex index = HashIndex::build(list, IndexSpec::parse("flat"));
  try {
    index.save("/nonexistent-dir/x.hmi");
    FAIL() << "saved into a missing directory";
  } catch (const IndexFileError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.hmi"), std::string::npos);
  }
}

// ---- approximate indexes: recall is measured, not assumed ------------------

double recall_of(const std::string& type, const RefList& list, const std::vector<Code>& queries, int t) {
  const HashIndex exact = HashIndex::build(list, IndexSpec::parse("flat"));
  const HashIndex approx = HashIndex::build(list, IndexSpec::parse(type));
  EXPECT_FALSE(approx.exact());
  const std::vector<uint8_t> flat = flatten(queries);
  const IndexHits truth = exact.range(flat.data(), queries.size(), t);
  const IndexHits found = approx.range(flat.data(), queries.size(), t);
  size_t want = 0, got = 0;
  for (size_t q = 0; q < queries.size(); ++q) {
    std::set<int64_t> refs;
    for (const auto& h : truth[q]) refs.insert(h.ref);
    want += refs.size();
    for (const auto& h : found[q]) {
      EXPECT_TRUE(refs.count(h.ref)) << type << " returned a reference beyond the threshold";
      got += refs.count(h.ref);
    }
  }
  return want ? (double)got / (double)want : 1.0;
}

TEST(HashIndexApproximate, RecallOfHnswAndIvfIsMeasuredAgainstFlat) {
  std::mt19937_64 rng(kSeed + 7);
  const std::vector<Code> queries = make_queries(rng, 50);
  const RefList list = test::planted_list(queries, 31, 8000, rng);
  for (const std::string type : {"hnsw", "ivf,nlist=64,nprobe=8"}) {
    const double recall = recall_of(type, list, queries, 31);
    std::printf("[ recall ] %s: %.4f of %zu planted matches at T=31\n", type.c_str(), recall,
                queries.size() * 32);
    // Near-duplicates of random codes are easy: both must find most of them.
    EXPECT_GE(recall, 0.8) << type;
    EXPECT_LE(recall, 1.0) << type;
  }
}

TEST(HashIndexApproximate, ConcurrentHnswTopKEqualsSerial) {
  // top_k raises FAISS's efSearch to k, a setting of the index: callers on
  // several threads with different k must get what one thread gets.
  std::mt19937_64 rng(kSeed + 9);
  const std::vector<Code> queries = make_queries(rng, 20);
  const HashIndex index = HashIndex::build(test::planted_list(queries, 31, 3000, rng), IndexSpec::parse("hnsw,M=16"));
  const std::vector<uint8_t> flat = flatten(queries);
  const size_t ks[] = {10, 200, 50, 400};
  std::vector<IndexHits> serial;
  for (size_t k : ks) serial.push_back(index.top_k(flat.data(), queries.size(), k, 256));
  std::vector<IndexHits> parallel(std::size(ks));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::size(ks); ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) parallel[t] = index.top_k(flat.data(), queries.size(), ks[t], 256);
    });
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < std::size(ks); ++t) {
    ASSERT_EQ(parallel[t].size(), serial[t].size());
    for (size_t q = 0; q < serial[t].size(); ++q) {
      ASSERT_EQ(parallel[t][q].size(), serial[t][q].size()) << "k " << ks[t] << " query " << q;
      for (size_t j = 0; j < serial[t][q].size(); ++j) EXPECT_EQ(parallel[t][q][j].ref, serial[t][q][j].ref);
    }
  }
}

}  // namespace
}  // namespace hm
