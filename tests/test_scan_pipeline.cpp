// ScanPipeline: every input gives one record, in input order, equal to what
// a lone FileHasher computes; matches equal the Matcher's on the same hashes,
// whether the workers search (flat, mih) or the delivering stage does in
// batches (hnsw); failures from the caller's callbacks stop the run.
#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <memory>
#include <random>
#include <stdexcept>

#include "match_test_support.hpp"
#include "matcher.hpp"
#include "scan_pipeline.hpp"

namespace hm {
namespace {

const std::string kImages = std::string(HM_TEST_DATA) + "/pdq-golden/images";

/// The golden images (ok, broken and tiny ones), a path that does not
/// exist, a directory, and an item the source itself failed on.
std::vector<SourceItem> inputs() {
  std::vector<SourceItem> items;
  DIR* dir = opendir(kImages.c_str());
  if (!dir) throw std::runtime_error("cannot list " + kImages);
  while (const dirent* e = readdir(dir))
    if (e->d_name[0] != '.') items.push_back({kImages + "/" + e->d_name, ""});
  closedir(dir);
  std::sort(items.begin(), items.end(),
            [](const SourceItem& a, const SourceItem& b) { return a.path < b.path; });
  items.insert(items.begin() + 7, SourceItem{kImages + "/no-such-file.jpg", ""});
  items.insert(items.begin() + 20, SourceItem{kImages, ""});
  items.insert(items.begin() + 33, SourceItem{"/listing/failed", "read: permission denied"});
  return items;
}

/// Runs the pipeline over `items`; returns the records and the group sizes.
std::vector<HashRecord> run(ScanPipeline& pipeline, const std::vector<SourceItem>& items,
                            std::vector<size_t>* groups = nullptr) {
  size_t next = 0;
  std::vector<HashRecord> out;
  pipeline.run(
      [&](SourceItem& item) {
        if (next == items.size()) return false;
        item = items[next++];
        return true;
      },
      [&](std::vector<HashRecord>& records) {
        if (groups) groups->push_back(records.size());
        for (auto& r : records) out.push_back(std::move(r));
      });
  return out;
}

class ScanPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    items_ = new std::vector<SourceItem>(inputs());
    serial_ = new std::vector<HashRecord>;
    FileHasher hasher(HashOptions{});
    for (const auto& item : *items_) {
      HashRecord r;
      if (item.error.empty()) {
        r = hasher.hash_file(item.path);
      } else {
        r.path = item.path;
        r.error = item.error;
      }
      serial_->push_back(std::move(r));
    }
  }
  static void TearDownTestSuite() {
    delete items_;
    delete serial_;
  }
  static std::vector<SourceItem>* items_;
  static std::vector<HashRecord>* serial_;  ///< one FileHasher, in order
};

std::vector<SourceItem>* ScanPipelineTest::items_ = nullptr;
std::vector<HashRecord>* ScanPipelineTest::serial_ = nullptr;

void expect_same_hashes(const std::vector<HashRecord>& got, const std::vector<HashRecord>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(want[i].path);
    EXPECT_EQ(got[i].path, want[i].path);
    EXPECT_EQ(got[i].error, want[i].error);
    EXPECT_EQ(got[i].has_pdq, want[i].has_pdq);
    EXPECT_EQ(got[i].pdq, want[i].pdq);
    EXPECT_EQ(got[i].quality, want[i].quality);
    EXPECT_EQ(got[i].md5, want[i].md5);
    EXPECT_EQ(got[i].sha256, want[i].sha256);
  }
}

TEST_F(ScanPipelineTest, EveryInputOnceInOrderAsOneHasherGivesIt) {
  for (int threads : {1, 3}) {
    for (size_t read_ahead : {size_t(0), size_t(16)}) {
      SCOPED_TRACE("threads " + std::to_string(threads) + ", read-ahead " + std::to_string(read_ahead));
      PipelineOptions options;
      options.threads = threads;
      options.read_ahead = read_ahead;
      ScanPipeline pipeline(options);
      std::vector<size_t> groups;
      const auto records = run(pipeline, *items_, &groups);
      expect_same_hashes(records, *serial_);
      // Nothing to batch: each record is delivered as soon as it is in order.
      EXPECT_TRUE(std::all_of(groups.begin(), groups.end(), [](size_t g) { return g == 1; }));
      EXPECT_FALSE(pipeline.pdq_on_gpu());
    }
  }
  // The inputs really cover the cases: hashed files, failed files, the source's error.
  const auto ok = std::count_if(serial_->begin(), serial_->end(),
                                [](const HashRecord& r) { return r.error.empty(); });
  EXPECT_GT(ok, 300);
  EXPECT_GT(serial_->size() - ok, 5u);
}

TEST_F(ScanPipelineTest, MatchesEqualTheMatchersWhereverTheSearchRuns) {
  // References: the PDQ of every tenth hashed file with a few bits flipped,
  // among random ones, so that many records match and most do not.
  std::mt19937_64 rng(5150);
  RefList list;
  list.source = "planted";
  list.signal = SignalType::Pdq;
  for (size_t i = 0; i < serial_->size(); ++i) {
    const HashRecord& r = (*serial_)[i];
    if (r.has_pdq && i % 10 == 0) {
      test::Code code(r.pdq.begin(), r.pdq.end());
      const auto near = test::flip_bits(code, (int)(i % 40), rng);
      list.append(near.data(), "near" + std::to_string(i));
    }
  }
  for (int i = 0; i < 5000; ++i) list.append(test::random_code(rng).data(), "r" + std::to_string(i));

  for (const std::string type : {"flat", "mih", "hnsw"}) {
    SCOPED_TRACE(type);
    auto index = std::make_shared<const HashIndex>(HashIndex::build(list, IndexSpec::parse(type)));
    Matcher matcher({NamedIndex{"refs", index}}, MatchOptions{});
    std::vector<MatchQuery> queries;
    for (const auto& r : *serial_) queries.push_back(match_query_of(r));
    const auto want = matcher.match(queries);

    PipelineOptions options;
    options.threads = 3;
    options.matcher = &matcher;
    options.batch = 16;
    ScanPipeline pipeline(options);
    std::vector<size_t> groups;
    const auto records = run(pipeline, *items_, &groups);
    expect_same_hashes(records, *serial_);
    size_t matched = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      SCOPED_TRACE(records[i].path);
      EXPECT_TRUE(records[i].has_matches);
      EXPECT_EQ(records[i].low_quality, want[i].low_quality);
      ASSERT_EQ(records[i].matches.size(), want[i].matches.size());
      for (size_t m = 0; m < want[i].matches.size(); ++m) {
        EXPECT_EQ(records[i].matches[m].id, want[i].matches[m].id);
        EXPECT_EQ(records[i].matches[m].distance, want[i].matches[m].distance);
      }
      matched += !want[i].matches.empty();
    }
    EXPECT_GT(matched, 20u);
    // hnsw searches in batches of `batch`; flat and mih on the workers, one by one.
    const size_t largest = *std::max_element(groups.begin(), groups.end());
    EXPECT_EQ(largest, type == "hnsw" ? 16u : 1u);
  }
}

TEST_F(ScanPipelineTest, CallbackFailuresStopTheRunAndReachTheCaller) {
  PipelineOptions options;
  options.threads = 3;
  ScanPipeline pipeline(options);
  size_t delivered = 0;
  size_t next = 0;
  const auto& items = *items_;
  auto pull = [&](SourceItem& item) {
    if (next == items.size()) return false;
    item = items[next++];
    return true;
  };
  EXPECT_THROW(pipeline.run(pull,
                            [&](std::vector<HashRecord>& records) {
                              delivered += records.size();
                              if (delivered == 10) throw std::runtime_error("disk full");
                            }),
               std::runtime_error);
  EXPECT_EQ(delivered, 10u);
  next = 0;
  EXPECT_THROW(pipeline.run(
                   [&](SourceItem& item) {
                     if (next == 25) throw std::runtime_error("listing failed");
                     return pull(item);
                   },
                   [&](std::vector<HashRecord>&) {}),
               std::runtime_error);
  // The pipeline is reusable after a failed run.
  next = 0;
  std::vector<HashRecord> records;
  pipeline.run(pull, [&](std::vector<HashRecord>& rs) {
    for (auto& r : rs) records.push_back(std::move(r));
  });
  expect_same_hashes(records, *serial_);
}

TEST(ScanPipeline, CudaBackendWithoutADeviceSaysWhy) {
  if (cuda_compiled() && !gpu_devices().empty())
    GTEST_SKIP() << "a GPU is present: tests/cuda checks the cuda pipeline against the CPU";
  PipelineOptions options;
  options.backend = Backend::Cuda;
  try {
    ScanPipeline pipeline(options);
    FAIL() << "a cuda pipeline was created without a usable device";
  } catch (const std::runtime_error& e) {
    EXPECT_FALSE(std::string(e.what()).empty());
  }
  // Without PDQ nothing runs on the GPU, so there is nothing to open.
  options.hash.pdq = false;
  ScanPipeline digests_only(options);
  EXPECT_FALSE(digests_only.pdq_on_gpu());
  EXPECT_THROW(digests_only.gpu_name(), std::logic_error);
}

}  // namespace
}  // namespace hm
