// ReadAhead: items come out in pull order, at most `depth` are pulled ahead,
// regular files are hinted (the last ones too, short of a wake batch), and
// specials (a FIFO with no writer) never block.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "read_ahead.hpp"

namespace {

namespace fs = std::filesystem;

struct Scratch {
  Scratch() {
    char pattern[] = "/tmp/hm-read-ahead-XXXXXX";
    dir = mkdtemp(pattern);
  }
  ~Scratch() { fs::remove_all(dir); }
  std::string dir;
};

/// A pull function over a fixed list that records how far it was called.
struct ListPull {
  const std::vector<hm::SourceItem>& items;
  size_t pulled = 0;
  bool operator()(hm::SourceItem& out) {
    if (pulled == items.size()) return false;
    out = items[pulled++];
    return true;
  }
};

TEST(ReadAhead, KeepsOrderAndPullsAtMostDepthAhead) {
  Scratch s;
  std::vector<hm::SourceItem> items;
  for (int i = 0; i < 50; ++i) {
    const std::string path = s.dir + "/f" + std::to_string(i);
    std::ofstream(path) << std::string(1000 + i, 'x');
    items.push_back({path, i % 7 == 3 ? "read: an error from the source" : ""});
  }
  items.push_back({s.dir + "/missing", ""});
  constexpr size_t kDepth = 5;
  hm::ReadAhead ahead(kDepth);
  ListPull pull{items};
  std::vector<hm::SourceItem> got;
  hm::SourceItem item;
  while (ahead.next(pull, item)) {
    got.push_back(item);
    EXPECT_LE(pull.pulled, got.size() + kDepth) << "pulled too far ahead";
  }
  EXPECT_FALSE(ahead.next(pull, item)) << "stays exhausted";
  ASSERT_EQ(got.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(got[i].path, items[i].path) << i;
    EXPECT_EQ(got[i].error, items[i].error) << i;
  }
}

TEST(ReadAhead, HintsRegularFilesAndNeverBlocksOnSpecials) {
  Scratch s;
  const std::string fifo = s.dir + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::vector<hm::SourceItem> items = {{fifo, ""}, {s.dir, ""}, {"/dev/null", ""}};
  for (int i = 0; i < 20; ++i) {
    const std::string path = s.dir + "/g" + std::to_string(i);
    std::ofstream(path) << std::string(4096, 'y');
    items.push_back({path, ""});
  }
  // One deeper than the items: the first next() pulls them all and finds
  // their end, which hands the last hints (short of a wake batch) over too.
  hm::ReadAhead ahead(items.size() + 1);
  ListPull pull{items};
  hm::SourceItem first;
  ASSERT_TRUE(ahead.next(pull, first));
  EXPECT_EQ(first.path, fifo);
  // The thread hints in the background: wait for it (a blocked open would hang here).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (ahead.hinted() < 20 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(ahead.hinted(), 20u) << "the 20 regular files, not the FIFO, directory or device";
  size_t rest = 0;
  hm::SourceItem item;
  while (ahead.next(pull, item)) ++rest;
  EXPECT_EQ(rest, items.size() - 1);
}

TEST(ReadAhead, HintsTheLastFilesShortOfAWakeBatch) {
  // Depth 64 wakes the thread every 8 hints; an input of 3 files must still
  // be hinted once the input ends.
  Scratch s;
  std::vector<hm::SourceItem> items = {{s.dir, ""}};  // taken first, never hinted
  for (int i = 0; i < 3; ++i) {
    const std::string path = s.dir + "/k" + std::to_string(i);
    std::ofstream(path) << std::string(4096, 'k');
    items.push_back({path, ""});
  }
  hm::ReadAhead ahead(64);
  ListPull pull{items};
  hm::SourceItem first;
  ASSERT_TRUE(ahead.next(pull, first));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (ahead.hinted() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(ahead.hinted(), 3u);
}

TEST(ReadAhead, HintsOnlyHintDepthAheadOfTheQueue) {
  // 20 queued, the first 5 hinted: the scan's file groups need a deep queue,
  // the page cache only --read-ahead files.
  Scratch s;
  std::vector<hm::SourceItem> items = {{s.dir, ""}};  // taken first, never hinted
  for (int i = 1; i < 30; ++i) {
    const std::string path = s.dir + "/m" + std::to_string(i);
    std::ofstream(path) << std::string(4096, 'm');
    items.push_back({path, ""});
  }
  hm::ReadAhead ahead(20, uint64_t(16) << 20, 5);
  ListPull pull{items};
  hm::SourceItem item;
  ASSERT_TRUE(ahead.next(pull, item));
  EXPECT_EQ(pull.pulled, 20u);
  EXPECT_EQ(ahead.queued(), 19u);
  auto wait_for = [&](uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (ahead.hinted() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  wait_for(4);  // inputs 1-4: the directory (input 0) is not a regular file
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(ahead.hinted(), 4u) << "hinted past hint_depth";
  ASSERT_TRUE(ahead.next(pull, item));  // takes input 1: input 5 comes into range
  wait_for(5);
  EXPECT_EQ(ahead.hinted(), 5u);
  hm::ReadAhead queue_only(20, uint64_t(16) << 20, 0);
  ListPull pull2{items};
  size_t n = 0;
  while (queue_only.next(pull2, item)) EXPECT_EQ(item.path, items[n++].path);
  EXPECT_EQ(n, items.size());
  EXPECT_EQ(queue_only.hinted(), 0u);
}

TEST(ReadAhead, DepthZeroPassesItemsStraightThrough) {
  Scratch s;
  std::vector<hm::SourceItem> items;
  for (int i = 0; i < 5; ++i) {
    const std::string path = s.dir + "/h" + std::to_string(i);
    std::ofstream(path) << "z";
    items.push_back({path, ""});
  }
  hm::ReadAhead ahead(0);
  ListPull pull{items};
  hm::SourceItem item;
  size_t n = 0;
  while (ahead.next(pull, item)) {
    EXPECT_EQ(item.path, items[n].path);
    EXPECT_EQ(pull.pulled, n + 1) << "nothing pulled ahead";
    ++n;
  }
  EXPECT_EQ(n, items.size());
  EXPECT_EQ(ahead.hinted(), 0u);
}

}  // namespace
