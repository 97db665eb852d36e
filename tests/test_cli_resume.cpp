// --resume end to end: kill -9 at random moments leaves whole JSONL lines,
// and resuming yields every input exactly once with the records of an
// uninterrupted run.
#include <random>
#include <set>
#include <thread>

#include "cli_test_support.hpp"

using namespace cli_test;

namespace {

/// Starts HM_CLI with args (output to /dev/null), SIGKILLs it after
/// `delay_ms` unless it ended first; returns when it is reaped.
void run_and_kill(const std::vector<std::string>& args, int delay_ms) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = spawn_cli(args, actions, pid);
  posix_spawn_file_actions_destroy(&actions);
  ASSERT_EQ(rc, 0) << "posix_spawn: " << strerror(rc);
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  kill(pid, SIGKILL);  // harmless when it already exited: not yet reaped
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
}

/// The report's lines as path -> line; fails on a line that is not a JSON
/// record, on a missing final newline, and on a path seen twice.
std::map<std::string, std::string> records_by_path(const std::string& report, bool allow_torn_tail = false) {
  std::string text = read_bytes(report);
  if (allow_torn_tail) text.erase(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  std::map<std::string, std::string> by_path;
  for (const std::string& line : lines_of(text)) {
    try {
      const json j = json::parse(line);
      const std::string path = j.at("path").get<std::string>();
      EXPECT_TRUE(by_path.emplace(path, line).second) << "duplicate record for " << path;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a whole record: " << line << " (" << e.what() << ")";
    }
  }
  return by_path;
}

}  // namespace

TEST(CliResume, KillNineCyclesThenCompleteEqualsUninterruptedRun) {
  TempDir dir;
  const RunResult full = run_cli({"hash", "-q", "-r", "--threads", "2", "-o", dir / "full.jsonl", kImages}, "", 60);
  ASSERT_TRUE(full.status == 0 || full.status == 1) << describe(full);  // 1: some inputs are bad
  const auto expected = records_by_path(dir / "full.jsonl");
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(kImages)) files += e.is_regular_file();
  ASSERT_EQ(expected.size(), files);

  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(0, 120);
  const std::vector<std::string> args = {"hash", "-q", "-r", "--resume", "--threads", "2", "-o", dir / "R", kImages};
  int partial = 0;  // cycles killed mid-run, after some records and before the last
  for (int cycle = 0; cycle < 20; ++cycle) {
    run_and_kill(args, delay_ms(rng));
    if (!fs::exists(dir / "R")) continue;  // killed before the report was created
    // A kill -9 leaves whole lines (a torn tail only inside one write()).
    const std::string text = read_bytes(dir / "R");
    EXPECT_TRUE(text.empty() || text.back() == '\n') << "cycle " << cycle << ": torn last line";
    const size_t done = records_by_path(dir / "R").size();
    partial += done > 0 && done < expected.size();
    if (HasFailure()) return;
  }
  EXPECT_GT(partial, 0) << "no kill landed mid-run";
  const RunResult last = run_cli(args, "", 60);
  ASSERT_EQ(last.status == 2, false) << describe(last);
  EXPECT_EQ(records_by_path(dir / "R"), expected);
  // Resuming a complete report adds nothing.
  const RunResult again = run_cli(args, "", 60);
  ASSERT_EQ(again.status, 0) << describe(again);  // nothing left to hash, so no failures
  EXPECT_EQ(records_by_path(dir / "R"), expected);
}

TEST(CliResume, ScanResumesAfterATornLastLine) {
  TempDir dir;
  {
    std::ofstream f(dir / "refs.csv");
    f << "id,pdq\nnoise,0000000000000000000000000000000000000000000000000000000000000000\n";
    f << "orig," << golden("gnome_adwaita_l__orig.jpg").at("pdq_hex") << "\n";
  }
  std::vector<std::string> inputs;
  for (const auto& f : kHandful) inputs.push_back(image(f));
  std::vector<std::string> base = {"scan", "-q", "--min-quality", "0", "--refs", dir / "refs.csv", "--resume"};
  auto with = [&](const std::string& out, const std::vector<std::string>& ops) {
    std::vector<std::string> a = base;
    a.push_back("-o");
    a.push_back(out);
    a.insert(a.end(), ops.begin(), ops.end());
    return a;
  };
  const RunResult full = run_cli(with(dir / "full.jsonl", inputs));
  ASSERT_EQ(full.status, 0) << describe(full);
  const auto expected = records_by_path(dir / "full.jsonl");
  ASSERT_EQ(expected.size(), inputs.size());

  // Two whole records then half of the third, as a death inside write() leaves.
  const std::string text = read_bytes(dir / "full.jsonl");
  size_t cut = text.find('\n', text.find('\n') + 1) + 1;
  cut += (text.find('\n', cut) - cut) / 2;
  fs::copy_file(dir / "full.jsonl", dir / "R.jsonl");
  fs::copy_file(dir / "full.jsonl.journal", dir / "R.jsonl.journal");
  fs::resize_file(dir / "R.jsonl", cut);
  const RunResult resumed = run_cli(with(dir / "R.jsonl", inputs));
  ASSERT_EQ(resumed.status, 0) << describe(resumed);
  EXPECT_NE(resumed.err.find("torn last line"), std::string::npos) << resumed.err;
  EXPECT_EQ(records_by_path(dir / "R.jsonl"), expected);

  // Other match options would mix two kinds of matches in one report: refused.
  base.push_back("--threshold");
  base.push_back("10");
  const RunResult other = run_cli(with(dir / "R.jsonl", inputs));
  EXPECT_EQ(other.status, 2) << describe(other);
  EXPECT_NE(other.err.find("other options"), std::string::npos) << other.err;
  EXPECT_EQ(records_by_path(dir / "R.jsonl"), expected);
}

TEST(CliResume, RefusesOtherOperandsOrOptionsAndAForeignReport) {
  TempDir dir;
  const std::string out = dir / "R.jsonl";
  ASSERT_EQ(run_cli({"hash", "-q", "--resume", "-o", out, image(kHandful[0]), image(kHandful[1])}).status, 0);
  const std::string before = read_bytes(out);

  const RunResult other = run_cli({"hash", "-q", "--resume", "-o", out, image(kHandful[0])});
  EXPECT_EQ(other.status, 2) << describe(other);
  EXPECT_NE(other.err.find("other operands"), std::string::npos) << other.err;
  const RunResult algo = run_cli({"hash", "-q", "--resume", "--algo", "md5", "-o", out, image(kHandful[0]),
                                  image(kHandful[1])});
  EXPECT_EQ(algo.status, 2) << describe(algo);
  EXPECT_NE(algo.err.find("other options"), std::string::npos) << algo.err;
  EXPECT_EQ(read_bytes(out), before);  // refused runs leave the report alone

  // A report from a run without --resume has no journal (and loses an old one).
  ASSERT_EQ(run_cli({"hash", "-q", "-o", out, image(kHandful[0])}).status, 0);
  EXPECT_FALSE(fs::exists(out + ".journal"));
  const RunResult foreign = run_cli({"hash", "-q", "--resume", "-o", out, image(kHandful[0])});
  EXPECT_EQ(foreign.status, 2) << describe(foreign);
  EXPECT_NE(foreign.err.find("not the report of a --resume run"), std::string::npos) << foreign.err;
}

TEST(CliResume, UsageErrors) {
  TempDir dir;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"hash", "--resume", "--format", "csv", "-o", dir / "R", image(kHandful[0])},
        {"hash", "--resume", "--format", "text", "-o", dir / "R", image(kHandful[0])},
        {"scan", "--resume", "--refs", dir / "none.csv", image(kHandful[0])},
        {"hash", "--resume", image(kHandful[0])}}) {
    const RunResult r = run_cli(args);
    EXPECT_EQ(r.status, 2) << describe(r);
    EXPECT_NE(r.err.find("--resume needs"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "R"));
  }
}

TEST(CliResume, SummarySaysHowManyWereAlreadyDone) {
  TempDir dir;
  const std::string out = dir / "R.jsonl";
  ASSERT_EQ(run_cli({"hash", "-q", "--resume", "-o", out, image(kHandful[0]), image(kHandful[1])}).status, 0);
  // Drop the second record, as if the run had died before writing it.
  const std::string text = read_bytes(out);
  fs::resize_file(out, text.find('\n') + 1);
  const RunResult r = run_cli({"hash", "--resume", "-o", out, image(kHandful[0]), image(kHandful[1])});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_NE(r.err.find("1 files, 1 ok"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("resumed: 1 files were already in the report"), std::string::npos) << r.err;
  EXPECT_EQ(read_bytes(out), text);
}
