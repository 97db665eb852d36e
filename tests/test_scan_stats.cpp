// ScanStats (counts, JSON, summary line), the progress line and its
// formatter (on a fake clock), the known input count and atomic writes.
#include <gtest/gtest.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "path_source.hpp"
#include "progress.hpp"
#include "scan_stats.hpp"

namespace {

namespace fs = std::filesystem;

hm::HashRecord record(const std::string& error, uint64_t bytes, bool has_bytes, size_t matches) {
  hm::HashRecord r;
  r.path = "f";
  r.error = error;
  r.has_bytes = has_bytes;
  r.bytes = bytes;
  r.has_matches = true;
  r.matches.resize(matches);
  return r;
}

class TempDir {
 public:
  TempDir() {
    const char* tmp = getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/hm_stats_XXXXXX";
    if (mkdtemp(templ.data())) path_ = templ;
    EXPECT_FALSE(path_.empty()) << strerror(errno);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(ErrorKind, StageOrOther) {
  EXPECT_EQ(hm::error_kind("read: No such file or directory"), "read");
  EXPECT_EQ(hm::error_kind("decode: corrupt: really"), "decode");
  EXPECT_EQ(hm::error_kind("limit: image is 1x1"), "limit");
  EXPECT_EQ(hm::error_kind("unsupported: not an image"), "unsupported");
  EXPECT_EQ(hm::error_kind("no stage here"), "other");
  EXPECT_EQ(hm::error_kind(": empty stage"), "other");
  EXPECT_EQ(hm::error_kind("Decode: capital"), "other");
  EXPECT_EQ(hm::error_kind("two words: x"), "other");
  EXPECT_EQ(hm::error_kind("read:no space"), "other");
}

TEST(ScanStats, CountsAgreeWithAnIndependentTally) {
  const unsigned seed = 20240611;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  // (error text, the kind it must count as); "" is an ok record.
  const std::vector<std::pair<std::string, std::string>> errors = {
      {"", ""},
      {"read: Permission denied", "read"},
      {"decode: truncated JPEG", "decode"},
      {"limit: image is 9x9 = 81 pixels", "limit"},
      {"unsupported: not a recognised image format", "unsupported"},
      {"something without a stage", "other"}};
  hm::ScanStats stats;
  uint64_t files = 0, ok = 0, bad = 0, matched = 0, matches = 0, bytes = 0;
  std::map<std::string, uint64_t> kinds;
  for (int i = 0; i < 2000; ++i) {
    const auto& [error, kind] = errors[rng() % errors.size()];
    const bool has_bytes = rng() % 4 != 0;
    const uint64_t size = rng() % 5000000;
    const size_t n = rng() % 3 == 0 ? rng() % 4 : 0;
    stats.add(record(error, size, has_bytes, n));
    ++files;
    if (error.empty()) ++ok;
    else {
      ++bad;
      ++kinds[kind];
    }
    if (has_bytes) bytes += size;
    if (n) {
      ++matched;
      matches += n;
    }
  }
  EXPECT_EQ(stats.files, files);
  EXPECT_EQ(stats.ok, ok);
  EXPECT_EQ(stats.errors, bad);
  EXPECT_EQ(stats.errors_by_kind, kinds);
  EXPECT_EQ(stats.matched, matched);
  EXPECT_EQ(stats.matches, matches);
  EXPECT_EQ(stats.bytes, bytes);
}

TEST(ScanStats, JsonHasTheDocumentedKeysInOrder) {
  hm::ScanStats stats;
  stats.command = "scan";
  stats.backend = "cpu";
  stats.matching = true;
  stats.add(record("", 3000000, true, 2));
  stats.add(record("decode: bad", 1000000, true, 0));
  stats.add(record("read: gone", 0, false, 0));
  stats.add(record("", 4000000, true, 0));
  stats.seconds = 2.0;
  const auto j = nlohmann::ordered_json::parse(stats.to_json());
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  const std::vector<std::string> expected_keys = {
      "files", "ok", "errors", "errors_by_kind", "matched", "matches", "bytes",
      "seconds", "files_per_second", "mb_per_second", "backend", "command"};
  EXPECT_EQ(keys, expected_keys);
  EXPECT_EQ(j["files"], 4);
  EXPECT_EQ(j["ok"], 2);
  EXPECT_EQ(j["errors"], 2);
  EXPECT_EQ(j["errors_by_kind"], nlohmann::ordered_json({{"decode", 1}, {"read", 1}}));
  EXPECT_EQ(j["matched"], 1);
  EXPECT_EQ(j["matches"], 2);
  EXPECT_EQ(j["bytes"], 8000000);
  EXPECT_DOUBLE_EQ(j["seconds"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["files_per_second"].get<double>(), 4 / 2.0);
  EXPECT_DOUBLE_EQ(j["mb_per_second"].get<double>(), 8.0 / 2.0);
  EXPECT_EQ(j["backend"], "cpu");
  EXPECT_EQ(j["command"], "scan");
}

TEST(ScanStats, EmptyRunHasZeroRatesAndAnEmptyKindObject) {
  hm::ScanStats stats;
  const auto j = nlohmann::json::parse(stats.to_json());
  EXPECT_EQ(j["files"], 0);
  EXPECT_TRUE(j["errors_by_kind"].is_object());
  EXPECT_TRUE(j["errors_by_kind"].empty());
  EXPECT_EQ(j["files_per_second"], 0.0);
  EXPECT_EQ(j["mb_per_second"], 0.0);
}

TEST(ScanStats, SummaryLine) {
  hm::ScanStats stats;
  stats.add(record("", 1500000, true, 1));
  stats.add(record("read: gone", 0, false, 0));
  stats.add(record("decode: bad", 500000, true, 0));
  stats.add(record("decode: worse", 0, true, 0));
  stats.seconds = 0.5;
  // 4 files / 0.5 s = 8.0 files/s; 2e6 bytes / 0.5 s = 4.0 MB/s.
  EXPECT_EQ(stats.summary_line(),
            "4 files, 1 ok, 3 errors (decode 2, read 1) in 0.50 s (8.0 files/s, 4.0 MB/s)");
  stats.matching = true;
  EXPECT_EQ(stats.summary_line(),
            "4 files, 1 ok, 3 errors (decode 2, read 1), 1 matched in 0.50 s (8.0 files/s, 4.0 MB/s)");
}

TEST(Progress, FormatDuration) {
  EXPECT_EQ(hm::format_duration(0), "0:00");
  EXPECT_EQ(hm::format_duration(59.4), "0:59");
  EXPECT_EQ(hm::format_duration(61), "1:01");
  EXPECT_EQ(hm::format_duration(3599.6), "1:00:00");
  EXPECT_EQ(hm::format_duration(3725), "1:02:05");
  EXPECT_EQ(hm::format_duration(-5), "0:00");
  EXPECT_EQ(hm::format_duration(std::nan("")), "0:00");
  EXPECT_EQ(hm::format_duration(std::numeric_limits<double>::infinity()), "0:00");
}

TEST(Progress, FormatWithAKnownTotal) {
  hm::ScanStats stats;
  for (int i = 0; i < 120; ++i) stats.add(record(i < 2 ? "decode: x" : "", 50000, true, 0));
  // 120 files in 3 s: 40 files/s, 6e6 bytes / 3 s = 2.0 MB/s; 280 left at
  // 40/s is 7 s; 120 of 400 is 30%.
  EXPECT_EQ(hm::format_progress(stats, 3.0, 400),
            "120/400 files 30% | 40.0 files/s 2.0 MB/s | 2 errors | ETA 0:07");
  stats.matching = true;
  EXPECT_EQ(hm::format_progress(stats, 3.0, 400),
            "120/400 files 30% | 40.0 files/s 2.0 MB/s | 2 errors | 0 matched | ETA 0:07");
}

TEST(Progress, FormatWithoutATotalHasNoPercentOrEta) {
  hm::ScanStats stats;
  stats.matching = true;
  for (int i = 0; i < 10; ++i) stats.add(record("", 1000000, true, i == 3 ? 2 : 0));
  const std::string line = hm::format_progress(stats, 4.0, std::nullopt);
  EXPECT_EQ(line, "10 files | 2.5 files/s 2.5 MB/s | 0 errors | 1 matched");
  for (char c : line) EXPECT_GE((unsigned char)c, 0x20) << "control character in " << line;
}

TEST(Progress, FormatCutsToWidthAndNeverPassesHundredPercent) {
  hm::ScanStats stats;
  for (int i = 0; i < 5; ++i) stats.add(record("", 1, true, 0));
  const std::string full = hm::format_progress(stats, 1.0, 4);
  EXPECT_EQ(full.rfind("5/4 files 100% |", 0), 0u) << full;
  EXPECT_NE(full.find("ETA 0:00"), std::string::npos) << full;
  EXPECT_EQ(hm::format_progress(stats, 1.0, 4, 12), full.substr(0, 12));
  // Before any file: no rate, no ETA.
  EXPECT_EQ(hm::format_progress(hm::ScanStats{}, 0.0, 9), "0/9 files 0% | 0.0 files/s 0.0 MB/s | 0 errors");
}

/// A memory stream the progress line writes to, read back after each flush.
class Capture {
 public:
  Capture() : file_(open_memstream(&data_, &size_)) {}
  ~Capture() {
    fclose(file_);
    free(data_);
  }
  FILE* file() const { return file_; }
  std::string text() {
    fflush(file_);
    return std::string(data_, size_);
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  FILE* file_;
};

TEST(Progress, LineRedrawsAtMostFourTimesASecondAndClearsAtTheEnd) {
  Capture out;
  double now = 100.0;
  hm::ScanStats stats;
  std::string finished;
  {
    hm::ProgressLine line(out.file(), true, std::nullopt, 0, [&] { return now; });
    stats.add(record("", 10, true, 0));
    now = 100.1;
    line.update(stats);
    EXPECT_EQ(out.text(), "") << "the first draw waits one interval";
    now = 100.3;
    line.update(stats);
    const std::string first = out.text();
    EXPECT_EQ(first, "\r" + hm::format_progress(stats, 0.3, std::nullopt) + "\x1b[K");
    now = 100.5;  // 0.2 s after the last draw
    line.update(stats);
    EXPECT_EQ(out.text(), first);
    now = 100.55;
    stats.add(record("read: x", 0, false, 0));
    line.update(stats);
    const std::string second = out.text();
    EXPECT_EQ(second, first + "\r" + hm::format_progress(stats, 0.55, std::nullopt) + "\x1b[K");
    line.finish();
    finished = out.text();
    EXPECT_EQ(finished, second + "\r\x1b[K");
    line.finish();
    EXPECT_EQ(out.text(), finished) << "a second finish writes nothing";
  }
  EXPECT_EQ(out.text(), finished) << "nothing to clear on destruction";
}

TEST(Progress, LineCutsOneColumnShortOfTheWidth) {
  Capture out;
  double now = 0;
  hm::ScanStats stats;
  hm::ProgressLine line(out.file(), true, 1000, 20, [&] { return now; });
  stats.add(record("", 10, true, 0));
  now = 1;
  line.update(stats);
  EXPECT_EQ(out.text(), "\r" + hm::format_progress(stats, 1, 1000).substr(0, 19) + "\x1b[K");
}

TEST(Progress, DestructorClearsAShownLine) {
  Capture out;
  double now = 0;
  hm::ScanStats stats;
  std::string drawn;
  {
    hm::ProgressLine line(out.file(), true, std::nullopt, 0, [&] { return now; });
    now = 1;
    line.update(stats);
    drawn = out.text();
    ASSERT_FALSE(drawn.empty());
  }
  EXPECT_EQ(out.text(), drawn + "\r\x1b[K");
}

TEST(Progress, DisabledLineWritesNothing) {
  Capture out;
  double now = 0;
  hm::ScanStats stats;
  {
    hm::ProgressLine line(out.file(), false, 10, 80, [&] { return now; });
    for (int i = 0; i < 10; ++i) {
      now += 1;
      stats.add(record("", 1, true, 0));
      line.update(stats);
    }
    line.finish();
  }
  EXPECT_EQ(out.text(), "");
}

size_t count_inputs(const std::vector<std::string>& operands, bool recursive) {
  hm::SourceOptions options;
  options.recursive = recursive;
  hm::PathSource source(operands, options);
  hm::SourceItem item;
  size_t n = 0;
  while (source.next(item)) ++n;
  return n;
}

// The count, when known, is what PathSource then yields.
TEST(Progress, KnownInputCountAgreesWithPathSource) {
  TempDir dir;
  for (const char* f : {"a", "b", "d/c", "d/e"}) {
    fs::create_directories(fs::path(dir / f).parent_path());
    std::ofstream(dir / f) << "x";
  }
  const std::string a = dir / "a", b = dir / "b", d = dir / "d", missing = dir / "missing";
  for (bool recursive : {false, true}) {
    SCOPED_TRACE(recursive ? "recursive" : "flat");
    for (const auto& ops : std::vector<std::vector<std::string>>{{a}, {a, b, missing}, {a, a}, {}}) {
      const auto known = hm::known_input_count(ops, recursive);
      ASSERT_TRUE(known.has_value());
      EXPECT_EQ(*known, count_inputs(ops, recursive));
    }
    const auto with_dir = hm::known_input_count({a, d}, recursive);
    if (recursive) {
      EXPECT_FALSE(with_dir.has_value()) << "a walk is not counted ahead";
    } else {
      ASSERT_TRUE(with_dir.has_value()) << "a directory without -r is one error record";
      EXPECT_EQ(*with_dir, count_inputs({a, d}, false));
    }
    EXPECT_FALSE(hm::known_input_count({a, "-"}, recursive).has_value());
  }
}

TEST(AtomicWrite, WritesAndReplacesLeavingNoTemporaryFile) {
  TempDir dir;
  const std::string path = dir / "summary.json";
  hm::write_file_atomically(path, "first\n");
  EXPECT_EQ(slurp(path), "first\n");
  hm::write_file_atomically(path, "second, longer\n");
  EXPECT_EQ(slurp(path), "second, longer\n");
  hm::write_file_atomically(path, "");
  EXPECT_EQ(slurp(path), "");
  EXPECT_EQ(dir.names(), std::vector<std::string>{"summary.json"});
}

TEST(AtomicWrite, FailuresThrowAndLeaveNothing) {
  TempDir dir;
  EXPECT_THROW(hm::write_file_atomically(dir / "no/such/dir/s.json", "x"), std::runtime_error);
  fs::create_directory(dir / "sub");
  EXPECT_THROW(hm::write_file_atomically(dir / "sub", "x"), std::runtime_error);
  EXPECT_EQ(dir.names(), std::vector<std::string>{"sub"});
  EXPECT_TRUE(fs::is_directory(dir / "sub"));
}

TEST(AtomicWrite, CheckCanCreate) {
  TempDir dir;
  EXPECT_NO_THROW(hm::check_can_create(dir / "new.json"));
  hm::write_file_atomically(dir / "old.json", "x");
  EXPECT_NO_THROW(hm::check_can_create(dir / "old.json"));
  EXPECT_THROW(hm::check_can_create(dir / "missing/new.json"), std::runtime_error);
  fs::create_directory(dir / "sub");
  EXPECT_THROW(hm::check_can_create(dir / "sub"), std::runtime_error);
  EXPECT_TRUE(dir.names() == (std::vector<std::string>{"old.json", "sub"}));
}

}  // namespace
