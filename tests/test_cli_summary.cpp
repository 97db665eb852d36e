// --summary FILE and the stderr summary of `hash` and `scan`: the JSON counts
// against the records the same run wrote, and no progress line on a pipe.
#include "cli_test_support.hpp"

namespace {

using namespace cli_test;

// Counts tallied here from a run's JSONL records, to hold the summary against.
struct Tally {
  uint64_t files = 0, ok = 0, errors = 0, matched = 0, matches = 0, bytes = 0;
  std::map<std::string, uint64_t> kinds;
};

Tally tally(const std::vector<json>& records) {
  Tally t;
  for (const json& r : records) {
    ++t.files;
    if (r.at("status") == "ok") {
      ++t.ok;
    } else {
      ++t.errors;
      const std::string error = r.at("error");
      ++t.kinds[error.substr(0, error.find(": "))];
    }
    if (r.contains("bytes")) t.bytes += r.at("bytes").get<uint64_t>();
    if (r.contains("matches") && !r.at("matches").empty()) {
      ++t.matched;
      t.matches += r.at("matches").size();
    }
  }
  return t;
}

void expect_summary(const json& s, const Tally& t, const std::string& command) {
  EXPECT_EQ(s.at("command"), command);
  EXPECT_EQ(s.at("backend"), "cpu");
  EXPECT_EQ(s.at("files"), t.files);
  EXPECT_EQ(s.at("ok"), t.ok);
  EXPECT_EQ(s.at("errors"), t.errors);
  json kinds = json::object();
  for (const auto& [kind, n] : t.kinds) kinds[kind] = n;
  EXPECT_EQ(s.at("errors_by_kind"), kinds);
  EXPECT_EQ(s.at("matched"), t.matched);
  EXPECT_EQ(s.at("matches"), t.matches);
  EXPECT_EQ(s.at("bytes"), t.bytes);
  const double seconds = s.at("seconds");
  EXPECT_GE(seconds, 0.0);
  if (seconds > 0) {
    EXPECT_NEAR(s.at("files_per_second").get<double>(), t.files / seconds, 1e-6 * t.files / seconds);
    EXPECT_NEAR(s.at("mb_per_second").get<double>(), t.bytes / 1e6 / seconds, 1e-6 * t.bytes / seconds);
  }
}

void expect_no_progress(const RunResult& r) {
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
}

const std::string kBroken = "fail_text_as_jpeg__orig.jpg";

TEST(CliSummary, HashSummaryAgreesWithTheRecords) {
  TempDir dir;
  const std::string summary = dir / "summary.json";
  std::vector<std::string> args = {"hash", "--backend", "cpu", "--summary", summary};
  uint64_t file_bytes = 0;
  for (const auto& f : kHandful) {
    args.push_back(image(f));
    file_bytes += fs::file_size(image(f));
  }
  args.push_back(image(kBroken));
  file_bytes += fs::file_size(image(kBroken));
  const RunResult r = run_cli(args);
  ASSERT_EQ(r.status, 1) << describe(r);  // the broken file is an error record
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), kHandful.size() + 1);
  const Tally t = tally(records);
  // What the records say, and what the files are.
  EXPECT_EQ(t.ok, kHandful.size());
  EXPECT_EQ(t.kinds, (std::map<std::string, uint64_t>{{"unsupported", 1}}));
  EXPECT_EQ(t.bytes, file_bytes);
  const json s = json::parse(read_bytes(summary));
  expect_summary(s, t, "hash");
  // The stderr line says the same, errors by kind included; no progress on a pipe.
  const std::string line = "hashmatch: " + std::to_string(t.files) + " files, " + std::to_string(t.ok) +
                           " ok, 1 errors (unsupported 1) in ";
  EXPECT_NE(r.err.find(line), std::string::npos) << r.err;
  expect_no_progress(r);
  // Written by rename: nothing else is left in the directory.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.push_back(e.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"summary.json"});
}

TEST(CliSummary, QuietKeepsTheFileAndSilencesStderr) {
  TempDir dir;
  const std::string summary = dir / "s.json";
  std::ofstream(summary) << "stale";
  const RunResult r =
      run_cli({"hash", "-q", "--backend=cpu", "--summary=" + summary, image(kHandful[0]), image(kHandful[1])});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.err, "");
  expect_summary(json::parse(read_bytes(summary)), tally(jsonl(r)), "hash");
}

TEST(CliSummary, ScanCountsMatchedFilesAndMatches) {
  TempDir dir;
  const std::string refs = dir / "known.txt";
  // Two references equal to one golden hash, so that file has two matches.
  std::ofstream(refs) << golden(kHandful[1]).at("pdq_hex") << " a\n"
                      << golden(kHandful[1]).at("pdq_hex") << " b\n";
  const std::string summary = dir / "scan.json";
  std::vector<std::string> args = {"scan", "--backend", "cpu", "--refs", refs, "--summary", summary};
  for (const auto& f : kHandful) args.push_back(image(f));
  args.push_back(image(kBroken));
  const RunResult r = run_cli(args);
  ASSERT_EQ(r.status, 1) << describe(r);
  const Tally t = tally(jsonl(r));
  EXPECT_GE(t.matched, 1u);
  EXPECT_GE(t.matches, 2u);
  expect_summary(json::parse(read_bytes(summary)), t, "scan");
  EXPECT_NE(r.err.find(", " + std::to_string(t.matched) + " matched in "), std::string::npos) << r.err;
  expect_no_progress(r);
}

TEST(CliSummary, RecursiveScanOfADirectoryHasNoProgressOnAPipe) {
  const RunResult r = run_cli({"hash", "-r", "--algo", "md5", kImages});
  ASSERT_TRUE(r.status == 0 || r.status == 1) << describe(r);
  expect_no_progress(r);
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
}

TEST(CliSummary, UnwritableSummaryFailsBeforeHashing) {
  const RunResult r =
      run_cli({"hash", "--summary", "/nonexistent-hashmatch-test/s.json", image(kHandful[0])});
  EXPECT_EQ(r.status, 2) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("/nonexistent-hashmatch-test"), std::string::npos) << r.err;
}

TEST(CliSummary, HelpMentionsSummary) {
  for (const char* command : {"hash", "scan"}) {
    const RunResult r = run_cli({command, "--help"});
    ASSERT_EQ(r.status, 0) << describe(r);
    EXPECT_NE(r.out.find("--summary FILE"), std::string::npos) << command;
  }
}

}  // namespace
