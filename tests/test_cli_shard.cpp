// `hash --shard I/N` and `merge` end to end over the golden images: every
// file in exactly one shard, the shards' union equal to the unsharded run,
// and merge naming missing, incomplete and foreign shards.
#include <set>

#include "cli_test_support.hpp"

namespace {

using namespace cli_test;

// The documented assignment, written out again here: fmix64(fnv1a64(path)) % n.
uint32_t expected_shard(const std::string& path, uint32_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : path) h = (h ^ c) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return (uint32_t)(h % n);
}

/// Sets or clears an environment variable for one scope (the child sees it).
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old, had_ = true;
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~EnvVar() {
    if (had_) setenv(name_.c_str(), old_.c_str(), 1);
    else unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

std::multiset<std::string> line_set(const std::string& text) {
  const auto lines = lines_of(text);
  return {lines.begin(), lines.end()};
}

// Hashing is the slow part: PDQ and MD5 of the whole golden set, once.
const std::vector<std::string> kHashArgs = {"hash", "-q", "-r", "--algo", "pdq,md5", kImages};

class CliShard : public ::testing::Test {
 protected:
  static constexpr uint32_t kShards = 3;

  /// Runs shard i of kShards into dir/shard-i.jsonl (extra args appended).
  RunResult run_shard(uint32_t i, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = kHashArgs;
    args.insert(args.end(), {"--shard", std::to_string(i) + "/" + std::to_string(kShards), "-o", report(i)});
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args, "", 120);
  }
  std::string report(uint32_t i, const std::string& ext = "jsonl") const {
    return dir_ / ("shard-" + std::to_string(i) + "." + ext);
  }
  /// The unsharded run's report.
  static const std::string& whole() {
    static const std::string out = [] {
      const RunResult r = run_cli(kHashArgs, "", 120);
      EXPECT_EQ(r.status, 1) << "the golden set has failing files";
      return r.out;
    }();
    return out;
  }
  void run_all_shards() {
    for (uint32_t i = 0; i < kShards; ++i) {
      const RunResult r = run_shard(i);
      ASSERT_TRUE(r.status == 0 || r.status == 1) << describe(r);
      ASSERT_TRUE(fs::exists(report(i) + ".shard.json")) << i;
    }
  }

  TempDir dir_;
  EnvVar slurm_{"SLURM_ARRAY_TASK_ID", nullptr};
  EnvVar k8s_{"JOB_COMPLETION_INDEX", nullptr};
};

TEST_F(CliShard, EveryFileInExactlyOneShardAndUnionIsTheWholeRun) {
  run_all_shards();
  const auto all = lines_of(whole());
  ASSERT_GT(all.size(), 300u);
  std::multiset<std::string> union_lines;
  for (uint32_t i = 0; i < kShards; ++i) {
    SCOPED_TRACE("shard " + std::to_string(i));
    const std::string text = read_bytes(report(i));
    const auto lines = lines_of(text);
    EXPECT_GT(lines.size(), all.size() / kShards / 2) << "a lopsided split";
    // The shard's records are the whole run's records of its paths, in order.
    std::vector<std::string> expected;
    for (const auto& line : all)
      if (expected_shard(json::parse(line).at("path").get<std::string>(), kShards) == i) expected.push_back(line);
    EXPECT_EQ(lines, expected);
    union_lines.insert(lines.begin(), lines.end());
    const json m = json::parse(read_bytes(report(i) + ".shard.json"));
    EXPECT_EQ(m.at("shard"), i);
    EXPECT_EQ(m.at("shards"), kShards);
    EXPECT_EQ(m.at("complete"), true);
    EXPECT_EQ(m.at("records"), lines.size());
    EXPECT_EQ(m.at("report_bytes"), text.size());
    EXPECT_EQ(m.at("format"), "jsonl");
    EXPECT_EQ(m.at("operands"), json::array({kImages}));
  }
  EXPECT_EQ(union_lines, line_set(whole()));
}

TEST_F(CliShard, IndexFromSlurmOrKubernetesEnvironment) {
  const std::vector<std::string> files = {image(kHandful[0]), image(kHandful[1]), image(kHandful[2]),
                                          image(kHandful[3]), image(kHandful[4])};
  auto run = [&](const std::string& shard, const std::string& out) {
    std::vector<std::string> args = {"hash", "-q", "--algo", "md5", "--shard", shard, "-o", out};
    args.insert(args.end(), files.begin(), files.end());
    return run_cli(args);
  };
  for (uint32_t i = 0; i < kShards; ++i) {
    const RunResult fixed = run(std::to_string(i) + "/3", dir_ / "fixed.jsonl");
    ASSERT_EQ(fixed.status, 0) << describe(fixed);
    std::string slurm_out, k8s_out;
    {
      EnvVar slurm("SLURM_ARRAY_TASK_ID", std::to_string(i).c_str());
      EnvVar k8s("JOB_COMPLETION_INDEX", std::to_string((i + 1) % kShards).c_str());  // Slurm wins
      ASSERT_EQ(run("auto/3", dir_ / "slurm.jsonl").status, 0);
    }
    {
      EnvVar k8s("JOB_COMPLETION_INDEX", std::to_string(i).c_str());
      ASSERT_EQ(run("auto/3", dir_ / "k8s.jsonl").status, 0);
    }
    EXPECT_EQ(read_bytes(dir_ / "slurm.jsonl"), read_bytes(dir_ / "fixed.jsonl")) << i;
    EXPECT_EQ(read_bytes(dir_ / "k8s.jsonl"), read_bytes(dir_ / "fixed.jsonl")) << i;
    EXPECT_EQ(json::parse(read_bytes(dir_ / "k8s.jsonl.shard.json")).at("shard"), i);
  }
}

TEST_F(CliShard, BadShardValuesExitTwo) {
  const std::string in = image(kHandful[0]), out = dir_ / "r.jsonl";
  for (const char* bad : {"3/3", "-1/3", "1/0", "a/3", "1", "1/3/4", "auto/3"}) {
    const RunResult r = run_cli({"hash", "--shard", bad, "-o", out, in});
    EXPECT_EQ(r.status, 2) << bad << "\n" << describe(r);
    EXPECT_NE(r.err.find("--shard"), std::string::npos) << r.err;
  }
  {
    EnvVar slurm("SLURM_ARRAY_TASK_ID", "3");
    EXPECT_EQ(run_cli({"hash", "--shard", "auto/3", "-o", out, in}).status, 2);
  }
  EXPECT_EQ(run_cli({"hash", "--shard", "0/3", in}).status, 2) << "no -o";
  EXPECT_EQ(run_cli({"hash", "--shard", "0/3", "--format", "text", "-o", out, in}).status, 2);
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(CliShard, RunThatFailsLeavesNoManifest) {
  // A manifest from an earlier run goes first, so a run that dies leaves none.
  const std::string out = dir_ / "r.jsonl";
  fs::create_directory(out);  // the report cannot be opened
  std::ofstream(out + ".shard.json") << "{}";
  const RunResult r = run_cli({"hash", "--shard", "0/2", "-o", out, image(kHandful[0])});
  EXPECT_EQ(r.status, 2) << describe(r);
  EXPECT_FALSE(fs::exists(out + ".shard.json"));
}

TEST_F(CliShard, MergeJoinsCompleteShards) {
  run_all_shards();
  const std::string merged = dir_ / "merged.jsonl";
  std::vector<std::string> args = {"merge", "-o", merged};
  for (uint32_t i = kShards; i-- > 0;) args.push_back(report(i));  // any order
  const RunResult r = run_cli(args);
  ASSERT_EQ(r.status, 0) << describe(r);
  const std::string text = read_bytes(merged);
  EXPECT_EQ(line_set(text), line_set(whole()));
  // Shard order: shard 0's report, then 1, then 2.
  EXPECT_EQ(text, read_bytes(report(0)) + read_bytes(report(1)) + read_bytes(report(2)));
  EXPECT_FALSE(fs::exists(merged + ".tmp"));
  // Manifests may stand for their reports; stdout without -o.
  const RunResult out = run_cli({"merge", "-q", report(0) + ".shard.json", report(1) + ".shard.json", report(2)});
  ASSERT_EQ(out.status, 0) << describe(out);
  EXPECT_EQ(out.out, text);
  EXPECT_EQ(out.err, "");
}

TEST_F(CliShard, MergeNamesMissingAndIncompleteShards) {
  run_all_shards();
  const std::string merged = dir_ / "merged.jsonl";
  // Shard 1 missing: nothing written, exit 1.
  RunResult r = run_cli({"merge", "-o", merged, report(0), report(2)});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_NE(r.err.find("shard 1 of 3: missing"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(merged));
  // --partial writes the shards that check out, still exit 1.
  r = run_cli({"merge", "--partial", "-o", merged, report(0), report(2)});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_EQ(read_bytes(merged), read_bytes(report(0)) + read_bytes(report(2)));
  fs::remove(merged);
  // A report without its manifest is a run that did not finish.
  fs::remove(report(1) + ".shard.json");
  r = run_cli({"merge", "-o", merged, report(0), report(1), report(2)});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_NE(r.err.find(report(1) + ": incomplete"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("shard 1 of 3: missing"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(merged));
}

TEST_F(CliShard, MergeRejectsCutDuplicateAndForeignShards) {
  run_all_shards();
  // A report cut short after its manifest was written.
  const std::string text = read_bytes(report(2));
  std::ofstream(report(2), std::ios::binary | std::ios::trunc) << text.substr(0, text.size() / 2);
  RunResult r = run_cli({"merge", report(0), report(1), report(2)});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_NE(r.err.find(report(2) + ": changed since its run"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  std::ofstream(report(2), std::ios::binary | std::ios::trunc) << text;
  // The same shard twice.
  fs::copy_file(report(1), dir_ / "copy.jsonl");
  fs::copy_file(report(1) + ".shard.json", dir_ / "copy.jsonl.shard.json");
  r = run_cli({"merge", report(0), report(1), report(2), dir_ / "copy.jsonl"});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_NE(r.err.find("shard 1 again"), std::string::npos) << r.err;
  // A shard of another run (other operands).
  const RunResult other = run_cli({"hash", "-q", "--algo", "md5", "--shard", "1/3", "-o", dir_ / "other.jsonl",
                                   image(kHandful[0])});
  ASSERT_EQ(other.status, 0) << describe(other);
  r = run_cli({"merge", report(0), dir_ / "other.jsonl", report(2)});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_NE(r.err.find("from another run"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("shard 1 of 3: missing"), std::string::npos) << r.err;
  // Nothing to merge at all.
  EXPECT_EQ(run_cli({"merge"}).status, 2);
}

TEST_F(CliShard, CsvShardsMergeWithOneHeader) {
  // A name with a comma and a newline: a quoted CSV field over two lines.
  const std::string odd = dir_ / "odd,name\nhere.jpg";
  fs::copy_file(image(kHandful[0]), odd);
  std::vector<std::string> base = {"hash", "-q", "--algo", "md5", "--format", "csv", odd};
  for (const auto& f : kHandful) base.push_back(image(f));
  const RunResult whole_csv = run_cli(base);
  ASSERT_EQ(whole_csv.status, 0) << describe(whole_csv);
  std::vector<std::string> merge = {"merge", "-o", dir_ / "merged.csv"};
  for (uint32_t i = 0; i < kShards; ++i) {
    std::vector<std::string> args = base;
    args.insert(args.end(), {"--shard", std::to_string(i) + "/3", "-o", report(i, "csv")});
    const RunResult r = run_cli(args);
    ASSERT_EQ(r.status, 0) << describe(r);
    merge.push_back(report(i, "csv"));
  }
  const RunResult r = run_cli(merge);
  ASSERT_EQ(r.status, 0) << describe(r);
  const std::string merged = read_bytes(dir_ / "merged.csv");
  const std::string header = whole_csv.out.substr(0, whole_csv.out.find('\n') + 1);
  ASSERT_EQ(merged.rfind(header, 0), 0u) << merged;
  EXPECT_EQ(merged.find(header, 1), std::string::npos) << "one header";
  // Rows compared as lines: the odd name's two lines stay together and in order.
  EXPECT_EQ(line_set(merged), line_set(whole_csv.out));
  EXPECT_NE(merged.find("\"" + odd.substr(0, odd.find('\n') + 1)), std::string::npos);
}

}  // namespace

TEST_F(CliShard, MergeRefusesScanShardsWithOtherListsOrMatchOptions) {
  // A reference list: the MD5s of the handful, computed by the tool's hash command.
  std::vector<std::string> hash_args = {"hash", "-q", "--algo", "md5", "--format", "csv"};
  for (const auto& f : kHandful) hash_args.push_back(image(f));
  const RunResult digests = run_cli(hash_args);
  ASSERT_EQ(digests.status, 0) << describe(digests);
  const std::string refs = dir_ / "known.csv";
  std::ofstream(refs, std::ios::binary) << digests.out;
  std::vector<std::string> base = {"scan", "-q", "--algo", "pdq,md5", "--refs", "md5=" + refs};
  for (const auto& f : kHandful) base.push_back(image(f));
  auto run = [&](uint32_t i, const std::vector<std::string>& extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--shard", std::to_string(i) + "/3", "-o", report(i)});
    const RunResult r = run_cli(args);
    ASSERT_TRUE(r.status == 0 || r.status == 1) << describe(r);
  };
  run(0, {});
  run(1, {"--threshold", "10"});  // another match option
  run(2, {});
  RunResult r = run_cli({"merge", report(0), report(1), report(2)});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_NE(r.err.find("from another run"), std::string::npos) << r.err;
  run(1, {});
  r = run_cli({"merge", report(0), report(1), report(2)});
  EXPECT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(lines_of(r.out).size(), kHandful.size());
}
