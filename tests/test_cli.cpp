// The hashmatch binary end to end: runs HM_CLI with pipes and checks its
// output against the golden manifest (tests/data/pdq-golden/manifest.tsv) and
// digests computed here with OpenSSL.
#include "cli_test_support.hpp"

namespace {

using namespace cli_test;

// ---------------------------------------------------------------- tests

TEST(CliHash, GoldenFilesJsonlInInputOrder) {
  std::vector<std::string> args = {"hash"};
  for (const auto& f : kHandful) args.push_back(image(f));
  const RunResult r = run_cli(args);
  ASSERT_EQ(r.status, 0) << describe(r);
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), kHandful.size()) << describe(r);
  for (size_t i = 0; i < kHandful.size(); ++i) {
    expect_golden_record(records[i], image(kHandful[i]), kHandful[i]);
    EXPECT_FALSE(records[i].contains("pdq_dihedral"));
  }
  // The summary goes to stderr, never stdout.
  EXPECT_NE(r.err.find("hashmatch: "), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("hashmatch: "), std::string::npos);
}

TEST(CliHash, QuietSilencesSummary) {
  const RunResult r = run_cli({"hash", "-q", image(kHandful[0])});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.err, "");
  ASSERT_EQ(jsonl(r).size(), 1u);
}

TEST(CliHash, Dihedral) {
  const std::vector<std::string> files = {"gnome_adwaita_l__orig.jpg", "gnome_adwaita_l__tiny.jpg"};
  const RunResult r = run_cli({"hash", "--dihedral", image(files[0]), image(files[1])});
  ASSERT_EQ(r.status, 0) << describe(r);
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), 2u);
  const char* names[] = {"pdq_hex",  "dih_rot90", "dih_rot180",    "dih_rot270",
                         "dih_flipx", "dih_flipy", "dih_flipplus1", "dih_flipminus1"};
  for (size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE(files[i]);
    expect_golden_record(records[i], image(files[i]), files[i]);
    const json& d = records[i].at("pdq_dihedral");
    ASSERT_EQ(d.size(), 8u);
    for (size_t t = 0; t < 8; ++t) EXPECT_EQ(d[t], golden(files[i]).at(names[t])) << names[t];
  }
}

TEST(CliHash, FailuresExitOneAndStillWriteRecords) {
  const std::string missing = "/nonexistent-hashmatch-test/none.jpg";
  const RunResult r =
      run_cli({"hash", image("fail_empty__orig.png"), image("gnome_adwaita_l__tiny.jpg"),
               image("fail_text_as_jpeg__orig.jpg"), missing,
               image("fail_skimage_truncated__orig.jpg")});
  EXPECT_EQ(r.status, 1) << describe(r);
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), 5u) << describe(r);
  auto expect_error = [](const json& j, const std::string& path, const std::string& stage) {
    SCOPED_TRACE(path);
    EXPECT_EQ(j.at("path"), path);
    EXPECT_EQ(j.at("status"), "error");
    EXPECT_EQ(j.at("error").get<std::string>().rfind(stage, 0), 0u) << j.dump();
    EXPECT_FALSE(j.contains("pdq"));
    EXPECT_FALSE(j.contains("quality"));
  };
  expect_error(records[0], image("fail_empty__orig.png"), "decode:");
  expect_golden_record(records[1], image("gnome_adwaita_l__tiny.jpg"), "gnome_adwaita_l__tiny.jpg");
  expect_error(records[2], image("fail_text_as_jpeg__orig.jpg"), "unsupported:");
  expect_error(records[3], missing, "read:");
  expect_error(records[4], image("fail_skimage_truncated__orig.jpg"), "decode:");
  // Bytes that were read still get their digests.
  EXPECT_EQ(records[2].at("md5"), evp_hex(EVP_md5(), read_bytes(image("fail_text_as_jpeg__orig.jpg"))));
  EXPECT_EQ(records[0].at("md5"), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_NE(r.err.find("hashmatch: "), std::string::npos);
}

TEST(CliUsage, ErrorsExitTwoWithNothingOnStdout) {
  const std::string f = image(kHandful[0]);
  const std::vector<std::vector<std::string>> cases = {
      {"hash", "--bogus", f},
      {"hash", "-x", f},
      {"hash"},
      {"hash", "-q"},
      {"hash", "--format", "xml", f},
      {"hash", "--format=", f},
      {"hash", "--format"},
      {"hash", "--threads", "0", f},
      {"hash", "--threads", "1025", f},
      {"hash", "--threads", "abc", f},
      {"hash", "--threads", "-2", f},
      {"hash", "--threads", "4x", f},
      {"hash", "--threads=", f},
      {"hash", "--threads", "99999999999999999999999", f},
      {"hash", "--algo", "bogus", f},
      {"hash", "--algo", "md5,", f},
      {"hash", "--algo", "", f},
      {"hash", "--max-pixels", "-5", f},
      {"hash", "--max-pixels", " -5", f},
      {"hash", "--max-pixels", "+5", f},
      {"hash", "--max-file-bytes", " 7", f},
      {"hash", "--16bit", "odd", f},
      {"hash", "--dihedral", "--algo", "md5", f},
      {"hash", "--quiet=yes", f},
      {"nosuchcommand"},
      {},
  };
  for (const auto& args : cases) {
    std::string joined;
    for (const auto& a : args) joined += "[" + a + "] ";
    SCOPED_TRACE(joined);
    const RunResult r = run_cli(args);
    EXPECT_EQ(r.status, 2) << describe(r);
    EXPECT_EQ(r.out, "") << describe(r);
    EXPECT_FALSE(r.err.empty());
  }
}

TEST(CliUsage, HelpAndVersion) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"hash", "--help"}, {"hash", "-h"}, {"--help"}, {"hash", "-h", "x"}}) {
    const RunResult r = run_cli(args);
    EXPECT_EQ(r.status, 0) << describe(r);
    EXPECT_NE(r.out.find("Usage: hashmatch"), std::string::npos) << describe(r);
  }
  const RunResult v = run_cli({"--version"});
  EXPECT_EQ(v.status, 0) << describe(v);
  EXPECT_EQ(v.out.rfind("hashmatch ", 0), 0u) << describe(v);
  EXPECT_EQ(v.out.back(), '\n');
}

/// A minimal CSV reader for our output (RFC 4180 quoting).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false, at_start = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"' && at_start) {
      quoted = true;
      at_start = false;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
      at_start = true;
    } else if (c == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
      at_start = true;
    } else {
      field.push_back(c);
      at_start = false;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quote";
  if (!rows.back().empty() || !field.empty()) rows.back().push_back(field);
  else rows.pop_back();
  return rows;
}

TEST(CliFormat, Csv) {
  const std::vector<std::string> files = {"gnome_adwaita_l__orig.jpg", "fail_empty__orig.png",
                                          "gnome_adwaita_l__tiny.jpg"};
  std::vector<std::string> args = {"hash", "--format", "csv"};
  for (const auto& f : files) args.push_back(image(f));
  const RunResult r = run_cli(args);
  EXPECT_EQ(r.status, 1) << describe(r);
  const auto rows = parse_csv(r.out);
  ASSERT_EQ(rows.size(), 4u) << describe(r);
  const auto& header = rows[0];
  auto col = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    ADD_FAILURE() << "no column " << name;
    return (size_t)0;
  };
  for (const auto& row : rows) ASSERT_EQ(row.size(), header.size());
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& row = rows[i + 1];
    EXPECT_EQ(row[col("path")], image(files[i]));
    const std::string bytes = read_bytes(image(files[i]));
    EXPECT_EQ(row[col("md5")], evp_hex(EVP_md5(), bytes));
    EXPECT_EQ(row[col("sha256")], evp_hex(EVP_sha256(), bytes));
  }
  EXPECT_EQ(rows[1][col("status")], "ok");
  EXPECT_EQ(rows[1][col("pdq")], golden(files[0]).at("pdq_hex"));
  EXPECT_EQ(rows[1][col("quality")], golden(files[0]).at("quality"));
  EXPECT_EQ(rows[1][col("width")], golden(files[0]).at("width"));
  EXPECT_EQ(rows[2][col("status")], "error");
  EXPECT_EQ(rows[2][col("error")].rfind("decode:", 0), 0u);
  EXPECT_EQ(rows[2][col("pdq")], "");
  EXPECT_EQ(rows[3][col("pdq")], golden(files[2]).at("pdq_hex"));
}

TEST(CliFormat, Text) {
  const std::string f = "gnome_adwaita_l__tiny.jpg";
  const RunResult r = run_cli({"hash", "--format", "text", image(f), image("fail_empty__orig.png")});
  EXPECT_EQ(r.status, 1) << describe(r);
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << describe(r);
  const std::string bytes = read_bytes(image(f));
  EXPECT_EQ(lines[0], golden(f).at("pdq_hex") + " " + golden(f).at("quality") + " " +
                          evp_hex(EVP_md5(), bytes) + " " + evp_hex(EVP_sha1(), bytes) + " " +
                          evp_hex(EVP_sha256(), bytes) + "  " + image(f));
  EXPECT_EQ(lines[1].rfind("error: decode:", 0), 0u) << lines[1];
  EXPECT_EQ(lines[1].substr(lines[1].size() - image("fail_empty__orig.png").size() - 2),
            "  " + image("fail_empty__orig.png"));
}

TEST(CliOutput, OutputFileAndNothingOnStdout) {
  TempDir dir;
  const std::string report = dir / "report.jsonl";
  const RunResult r = run_cli({"hash", "-o", report, image(kHandful[0]), image(kHandful[2])});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "");
  RunResult from_file;
  from_file.out = read_bytes(report);
  const auto records = jsonl(from_file);
  ASSERT_EQ(records.size(), 2u);
  expect_golden_record(records[0], image(kHandful[0]), kHandful[0]);
  expect_golden_record(records[1], image(kHandful[2]), kHandful[2]);
  // Unwritable destination: fatal, status 2.
  const RunResult bad = run_cli({"hash", "-o", dir / "no/such/dir/r.jsonl", image(kHandful[0])});
  EXPECT_EQ(bad.status, 2) << describe(bad);
  EXPECT_EQ(bad.out, "");
}

TEST(CliInput, StdinNewlineList) {
  const std::string list = image(kHandful[1]) + "\n\n" + image(kHandful[0]) + "\r\n";
  const RunResult r = run_cli({"hash", "-"}, list);
  ASSERT_EQ(r.status, 0) << describe(r);
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), 2u) << describe(r);
  expect_golden_record(records[0], image(kHandful[1]), kHandful[1]);
  expect_golden_record(records[1], image(kHandful[0]), kHandful[0]);
}

TEST(CliInput, StdinNulList) {
  std::string list = image(kHandful[2]);
  list.push_back('\0');
  list += image(kHandful[0]);
  list.push_back('\0');
  const RunResult r = run_cli({"hash", "-0", image(kHandful[3]), "-"}, list);
  ASSERT_EQ(r.status, 0) << describe(r);
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), 3u) << describe(r);
  expect_golden_record(records[0], image(kHandful[3]), kHandful[3]);
  expect_golden_record(records[1], image(kHandful[2]), kHandful[2]);
  expect_golden_record(records[2], image(kHandful[0]), kHandful[0]);
}

TEST(CliInput, RecursiveGivesSortedOrder) {
  TempDir dir;
  fs::create_directories(dir / "set/sub");
  // Copies named so that byte order differs from the order given here.
  const std::vector<std::pair<std::string, std::string>> copies = {
      {"set/b.jpg", kHandful[0]}, {"set/A.png", kHandful[2]}, {"set/sub/c.jpg", kHandful[3]},
      {"set/10.jpg", kHandful[1]}, {"set/9.jpg", kHandful[4]}};
  for (const auto& [rel, src] : copies) fs::copy_file(image(src), dir / rel);
  fs::create_symlink("..", dir / "set/sub/loop");
  const RunResult r = run_cli({"hash", "-r", "-q", dir / "set"});
  const auto records = jsonl(r);
  const std::vector<std::pair<std::string, std::string>> sorted = {
      {"set/10.jpg", kHandful[1]}, {"set/9.jpg", kHandful[4]}, {"set/A.png", kHandful[2]},
      {"set/b.jpg", kHandful[0]}, {"set/sub/c.jpg", kHandful[3]}};
  ASSERT_GE(records.size(), sorted.size()) << describe(r);
  for (size_t i = 0; i < sorted.size(); ++i)
    expect_golden_record(records[i], dir / sorted[i].first, sorted[i].second);
  // The loop link is not descended into: it is one error record saying so.
  ASSERT_EQ(records.size(), sorted.size() + 1) << describe(r);
  const json& loop = records.back();
  EXPECT_EQ(loop.at("path"), dir / "set/sub/loop");
  EXPECT_EQ(loop.at("status"), "error");
  EXPECT_EQ(loop.at("error"), "read: symbolic link to a directory, not followed");
  EXPECT_EQ(r.status, 1);
}

TEST(CliInput, DirectoryWithoutRecursiveIsAnErrorRecord) {
  TempDir dir;
  fs::create_directories(dir / "d");
  fs::copy_file(image(kHandful[0]), dir / "d/x.jpg");
  const RunResult r = run_cli({"hash", dir / "d", image(kHandful[0])});
  EXPECT_EQ(r.status, 1) << describe(r);
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), 2u) << describe(r);
  EXPECT_EQ(records[0].at("path"), dir / "d");
  EXPECT_EQ(records[0].at("status"), "error");
  EXPECT_EQ(records[0].at("error").get<std::string>().rfind("read:", 0), 0u);
  expect_golden_record(records[1], image(kHandful[0]), kHandful[0]);
}

TEST(CliInput, FifoDoesNotBlock) {
  TempDir dir;
  const std::string fifo = dir / "pipe.jpg";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << strerror(errno);
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = run_cli({"hash", fifo, image(kHandful[0])}, "", 10);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(r.timed_out) << "hashmatch blocked on a FIFO with no writer";
  EXPECT_LT(secs, 5.0);
  EXPECT_EQ(r.status, 1) << describe(r);
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), 2u) << describe(r);
  EXPECT_EQ(records[0].at("path"), fifo);
  EXPECT_EQ(records[0].at("status"), "error");
  EXPECT_EQ(records[0].at("error").get<std::string>().rfind("read:", 0), 0u);
  expect_golden_record(records[1], image(kHandful[0]), kHandful[0]);
}

TEST(CliAlgo, Md5OnlyDoesNotDecode) {
  const std::string text_file = image("fail_text_as_jpeg__orig.jpg");
  const std::string jpeg = image(kHandful[0]);
  const RunResult r = run_cli({"hash", "--algo", "md5", text_file, jpeg});
  EXPECT_EQ(r.status, 0) << describe(r);
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), 2u) << describe(r);
  for (size_t i = 0; i < 2; ++i) {
    const std::string path = i == 0 ? text_file : jpeg;
    EXPECT_EQ(records[i].at("path"), path);
    EXPECT_EQ(records[i].at("status"), "ok");
    EXPECT_EQ(records[i].at("md5"), evp_hex(EVP_md5(), read_bytes(path)));
    for (const char* key : {"pdq", "quality", "sha1", "sha256", "pdq_dihedral", "error"})
      EXPECT_FALSE(records[i].contains(key)) << key;
  }
}

TEST(CliAlgo, List) {
  const std::string f = kHandful[0];
  const RunResult r = run_cli({"hash", "--algo", "pdq,sha256", image(f)});
  ASSERT_EQ(r.status, 0) << describe(r);
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].at("pdq"), golden(f).at("pdq_hex"));
  EXPECT_EQ(records[0].at("sha256"), evp_hex(EVP_sha256(), read_bytes(image(f))));
  EXPECT_FALSE(records[0].contains("md5"));
  EXPECT_FALSE(records[0].contains("sha1"));
}

TEST(CliLimits, MaxPixels) {
  const RunResult r = run_cli(
      {"hash", "--max-pixels", "1000", image("gnome_adwaita_l__orig.jpg"),
       image("gnome_adwaita_l__tiny.jpg")});  // 1024x1024 and 30x30
  EXPECT_EQ(r.status, 1) << describe(r);
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), 2u) << describe(r);
  EXPECT_EQ(records[0].at("status"), "error");
  EXPECT_EQ(records[0].at("error").get<std::string>().rfind("limit:", 0), 0u) << records[0].dump();
  EXPECT_FALSE(records[0].contains("pdq"));
  expect_golden_record(records[1], image("gnome_adwaita_l__tiny.jpg"), "gnome_adwaita_l__tiny.jpg");
}

TEST(CliDeterminism, ThreadsOneAndFourAgreeOverTheGoldenSet) {
  // --16bit low-byte: the reference's treatment of 16-bit PNGs, so that every
  // hash can be compared with the manifest.
  const std::vector<std::string> common = {"hash", "-r", "-q", "--dihedral", "--16bit", "low-byte"};
  std::vector<std::string> args1 = common, args4 = common;
  args1.insert(args1.end(), {"--threads", "1", kImages});
  args4.insert(args4.end(), {"--threads", "4", kImages});
  const RunResult one = run_cli(args1, "", 60);
  const RunResult four = run_cli(args4, "", 60);
  ASSERT_FALSE(one.timed_out);
  ASSERT_FALSE(four.timed_out);
  EXPECT_EQ(one.status, four.status);
  EXPECT_EQ(one.status, 1) << "the golden set has failure cases";
  ASSERT_EQ(one.out, four.out) << "output differs between --threads 1 and --threads 4";
  // And it is the whole set, sorted by name, with the manifest's hashes.
  const auto records = jsonl(one);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(kImages)) files.push_back(e.path().filename());
  std::sort(files.begin(), files.end());
  ASSERT_EQ(records.size(), files.size());
  size_t checked = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(records[i].at("path"), kImages + "/" + files[i]);
    const Row& row = golden(files[i]);
    if (row.empty()) continue;
    const std::string& status = row.at("status");
    if (status == "ok" || status == "ok_decoder_warning" || status == "below_min_dim") {
      EXPECT_EQ(records[i].at("status"), "ok") << files[i];
      EXPECT_EQ(records[i].value("pdq", ""), row.at("pdq_hex")) << files[i];
      if (!row.at("dih_rot90").empty()) {
        const char* names[] = {"pdq_hex",  "dih_rot90", "dih_rot180",    "dih_rot270",
                               "dih_flipx", "dih_flipy", "dih_flipplus1", "dih_flipminus1"};
        const json d = records[i].value("pdq_dihedral", json::array());
        EXPECT_EQ(d.size(), 8u) << files[i];
        for (size_t t = 0; t < 8 && t < d.size(); ++t) EXPECT_EQ(d[t], row.at(names[t])) << files[i];
      }
      ++checked;
    } else {
      EXPECT_EQ(records[i].at("status"), "error") << files[i];
    }
  }
  EXPECT_GT(checked, 300u);
}

// Without a CUDA device (as here and on CI) --backend cuda is a fatal error,
// said plainly, before any report is written; auto and cpu hash on the CPU.
TEST(CliBackend, CudaWithoutDeviceIsAnError) {
  const RunResult info = run_cli({"info", "--format", "json"});
  ASSERT_EQ(info.status, 0) << describe(info);
  const json facts = json::parse(info.out);
  ASSERT_TRUE(facts.contains("cuda devices")) << info.out;
  if (facts.at("cuda devices") != "0") GTEST_SKIP() << "a CUDA device is present: --backend cuda works here";

  TempDir dir;
  const std::string report = dir / "report.jsonl";
  const RunResult r = run_cli({"hash", "--backend", "cuda", "-o", report, image(kHandful[0])});
  EXPECT_EQ(r.status, 2) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--backend cuda"), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.find("no CUDA device") != std::string::npos ||
              r.err.find("no CUDA backend") != std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(report)) << "the report was created before the backend was checked";

  for (const char* backend : {"cpu", "auto"}) {
    const RunResult ok = run_cli({"hash", "--backend", backend, image(kHandful[0])});
    ASSERT_EQ(ok.status, 0) << describe(ok);
    const auto records = jsonl(ok);
    ASSERT_EQ(records.size(), 1u);
    expect_golden_record(records[0], image(kHandful[0]), kHandful[0]);
    EXPECT_NE(ok.err.find("backend cpu"), std::string::npos) << ok.err;
  }
}

}  // namespace

namespace {

TEST(CliDecode, FastModeIsMarkedOnTheJpegRecordsItChanges) {
  const std::string jpeg = image("gnome_adwaita_l__orig.jpg"), png = image("gnome_adwaita_l__png_alpha.png");
  const RunResult fast = run_cli({"hash", "-q", "--decode", "fast", jpeg, png});
  ASSERT_EQ(fast.status, 0) << describe(fast);
  const auto records = jsonl(fast);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].value("decode", ""), "fast");
  EXPECT_FALSE(records[1].contains("decode"));  // PNGs decode exactly in either mode
  const RunResult exact = run_cli({"hash", "-q", jpeg});
  ASSERT_EQ(jsonl(exact).size(), 1u);
  EXPECT_FALSE(jsonl(exact)[0].contains("decode"));
  const RunResult bad = run_cli({"hash", "--decode", "quick", jpeg});
  EXPECT_EQ(bad.status, 2) << describe(bad);
}

}  // namespace
