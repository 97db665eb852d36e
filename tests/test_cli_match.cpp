// `scan`, `match` and `index` end to end. Expected matches come from the
// golden manifest, whose hashes (and dihedral hashes) Meta's reference
// computed, with distances counted here from the hex strings.
#include "cli_test_support.hpp"

namespace {

using namespace cli_test;

int hex_distance(const std::string& a, const std::string& b) {
  EXPECT_EQ(a.size(), b.size());
  int d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    d += __builtin_popcount((unsigned)(std::stoi(a.substr(i, 1), nullptr, 16) ^ std::stoi(b.substr(i, 1), nullptr, 16)));
  return d;
}

// The file's 8 dihedral hashes from the manifest, in the reference's order.
std::vector<std::string> dihedral_of(const std::string& file) {
  const Row& row = golden(file);
  std::vector<std::string> out = {row.at("pdq_hex")};
  for (const char* t : {"rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1"})
    out.push_back(row.at(std::string("dih_") + t));
  return out;
}

const std::vector<std::string> kTransformNames = {"orig",  "rot90", "rot180",    "rot270",
                                                  "flipx", "flipy", "flipplus1", "flipminus1"};

struct Expected {
  int distance;
  std::string transform;
};

// Smallest distance from a file's hashes (all 8 with dihedral) to a reference.
Expected expected_match(const std::string& file, const std::string& ref, bool dihedral) {
  const auto hashes = dihedral_of(file);
  Expected best{1000, ""};
  for (size_t t = 0; t < (dihedral ? hashes.size() : 1); ++t) {
    const int d = hex_distance(hashes[t], ref);
    if (d < best.distance) best = {d, kTransformNames[t]};
  }
  return best;
}

const std::string kOrig = "gnome_adwaita_l__orig.jpg";
const std::vector<std::string> kScanned = {"gnome_adwaita_l__orig.jpg", "gnome_adwaita_l__jpeg_q50.jpg",
                                           "gnome_adwaita_l__flip_h.jpg", "gnome_adwaita_l__rot90.jpg",
                                           "lomiri_bridge__orig.jpg", "fail_text_as_jpeg__orig.jpg"};

// A CSV list: the golden orig's hash, noise, and a metadata column.
std::string write_refs(const TempDir& dir) {
  const std::string path = dir / "known.csv";
  std::ofstream f(path);
  f << "id,pdq,category\n";
  f << "noise-1,0000000000000000000000000000000000000000000000000000000000000000,none\n";
  f << "known-orig," << golden(kOrig).at("pdq_hex") << ",A1\n";
  f << "noise-2,ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff,none\n";
  return path;
}

std::vector<std::string> scanned_paths() {
  std::vector<std::string> paths;
  for (const auto& f : kScanned) paths.push_back(image(f));
  return paths;
}

void expect_scan_matches(const std::vector<json>& records, bool dihedral) {
  ASSERT_EQ(records.size(), kScanned.size());
  const std::string ref = golden(kOrig).at("pdq_hex");
  for (size_t i = 0; i < kScanned.size(); ++i) {
    SCOPED_TRACE(kScanned[i]);
    const json& r = records[i];
    ASSERT_TRUE(r.contains("matches"));
    ASSERT_TRUE(r["matches"].is_array());
    if (r["status"] != "ok") {
      EXPECT_TRUE(r["matches"].empty());
      continue;
    }
    const Expected e = expected_match(kScanned[i], ref, dihedral);
    if (e.distance > 31) {
      EXPECT_TRUE(r["matches"].empty()) << r.dump();
      continue;
    }
    ASSERT_EQ(r["matches"].size(), 1u) << r.dump();
    const json& m = r["matches"][0];
    EXPECT_EQ(m["list"], "known");
    EXPECT_EQ(m["signal"], "pdq");
    EXPECT_EQ(m["id"], "known-orig");
    EXPECT_EQ(m["hash"], ref);
    EXPECT_EQ(m["distance"], e.distance);
    EXPECT_EQ(m["transform"], e.transform);
    EXPECT_EQ(m["meta"]["category"], "A1");
  }
}

TEST(CliScan, MatchesGoldenCopiesWithTheirDistances) {
  TempDir dir;
  const std::string refs = write_refs(dir);
  std::vector<std::string> args = {"scan", "-q", "--min-quality", "0", "--refs", refs};
  const auto paths = scanned_paths();
  args.insert(args.end(), paths.begin(), paths.end());
  const RunResult plain = run_cli(args);
  EXPECT_EQ(plain.status, 1) << describe(plain);  // one sample is not an image
  expect_scan_matches(jsonl(plain), false);

  args.insert(args.begin() + 1, "--dihedral");
  const RunResult dihedral = run_cli(args);
  EXPECT_EQ(dihedral.status, 1) << describe(dihedral);
  const auto records = jsonl(dihedral);
  expect_scan_matches(records, true);
  // The mirrored and rotated copies only match through a transform.
  ASSERT_EQ(records.size(), kScanned.size());
  EXPECT_EQ(records[2]["matches"].size(), 1u);
  EXPECT_EQ(records[3]["matches"].size(), 1u);
}

TEST(CliScan, QualityFloorIsReportedNotMatched) {
  TempDir dir;
  const std::string refs = write_refs(dir);
  // gnome_adwaita_l__orig has quality 64 in the manifest.
  ASSERT_EQ(golden(kOrig).at("quality"), "64");
  const RunResult r = run_cli({"scan", "-q", "--refs", refs, "--min-quality", "65", image(kOrig)});
  EXPECT_EQ(r.status, 0) << describe(r);
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["low_quality"], true);
  EXPECT_TRUE(records[0]["matches"].empty());
  const RunResult ok = run_cli({"scan", "-q", "--refs", refs, image(kOrig)});
  EXPECT_EQ(jsonl(ok)[0]["matches"].size(), 1u) << describe(ok);
}

TEST(CliScan, DigestListsMatchEvenUndecodableFiles) {
  TempDir dir;
  const std::string broken = "fail_text_as_jpeg__orig.jpg";
  const std::string md5 = evp_hex(EVP_md5(), read_bytes(image(broken)));
  {
    std::ofstream f(dir / "md5.txt");
    f << "# known files\n" << md5 << " bad-file\n0123456789abcdef0123456789abcdef other\n";
  }
  const RunResult r = run_cli({"scan", "-q", "--algo", "md5", "--refs", "files=" + (dir / "md5.txt"), image(broken),
                               image(kOrig)});
  EXPECT_EQ(r.status, 0) << describe(r);  // md5 only: nothing is decoded
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), 2u);
  ASSERT_EQ(records[0]["matches"].size(), 1u) << records[0].dump();
  EXPECT_EQ(records[0]["matches"][0]["list"], "files");
  EXPECT_EQ(records[0]["matches"][0]["signal"], "md5");
  EXPECT_EQ(records[0]["matches"][0]["id"], "bad-file");
  EXPECT_EQ(records[0]["matches"][0]["distance"], 0);
  EXPECT_TRUE(records[1]["matches"].empty());
}

TEST(CliScan, FailOnMatchExitsThree) {
  TempDir dir;
  const std::string refs = write_refs(dir);
  const RunResult hit = run_cli({"scan", "-q", "--fail-on-match", "--refs", refs, image(kOrig)});
  EXPECT_EQ(hit.status, 3) << describe(hit);
  const RunResult miss = run_cli({"scan", "-q", "--fail-on-match", "--refs", refs, image("lomiri_bridge__orig.jpg")});
  EXPECT_EQ(miss.status, 0) << describe(miss);
}

TEST(CliMatch, HashReportsAndScanReportsPipeBackIn) {
  TempDir dir;
  const std::string refs = write_refs(dir);
  std::vector<std::string> hash_args = {"hash", "-q", "--dihedral"};
  const auto paths = scanned_paths();
  hash_args.insert(hash_args.end(), paths.begin(), paths.end());
  const RunResult hashed = run_cli(hash_args);
  ASSERT_EQ(hashed.status, 1) << describe(hashed);

  const RunResult matched = run_cli({"match", "-q", "--dihedral", "--min-quality", "0", "--refs", refs}, hashed.out);
  EXPECT_EQ(matched.status, 0) << describe(matched);
  const auto records = jsonl(matched);
  expect_scan_matches(records, true);
  // Every field of the hash records is kept.
  const auto originals = jsonl(hashed);
  ASSERT_EQ(records.size(), originals.size());
  for (size_t i = 0; i < records.size(); ++i) {
    json without = records[i];
    without.erase("matches");
    EXPECT_EQ(without, originals[i]);
  }

  // A scan report is valid input too: matching it again gives the same report.
  std::vector<std::string> scan_args = {"scan", "-q", "--dihedral", "--min-quality", "0", "--refs", refs};
  scan_args.insert(scan_args.end(), paths.begin(), paths.end());
  const RunResult scanned = run_cli(scan_args);
  const RunResult rematched = run_cli({"match", "-q", "--dihedral", "--min-quality", "0", "--refs", refs}, scanned.out);
  EXPECT_EQ(jsonl(rematched), jsonl(scanned));
}

TEST(CliMatch, BareHexLinesAndUnreadableLines) {
  TempDir dir;
  const std::string refs = write_refs(dir);
  const std::string orig = golden(kOrig).at("pdq_hex");
  const std::string input = orig + " my-label\n\n" + "not a hash\n" + "{\"broken json\n" +
                            "{\"path\":\"x\",\"pdq\":\"" + orig + "\",\"quality\":10}\n";
  const RunResult r = run_cli({"match", "-q", "--refs", refs, "-"}, input);
  EXPECT_EQ(r.status, 1) << describe(r);
  const auto records = jsonl(r);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0]["line"], 1);
  EXPECT_EQ(records[0]["hash"], orig);
  EXPECT_EQ(records[0]["label"], "my-label");
  ASSERT_EQ(records[0]["matches"].size(), 1u);
  EXPECT_EQ(records[0]["matches"][0]["distance"], 0);
  EXPECT_EQ(records[1]["line"], 3);
  EXPECT_EQ(records[1]["status"], "error");
  EXPECT_NE(records[1]["error"].get<std::string>().find("line 3"), std::string::npos);
  EXPECT_EQ(records[2]["status"], "error");
  EXPECT_EQ(records[3]["low_quality"], true);  // quality 10 < 50
  EXPECT_TRUE(records[3]["matches"].empty());
}

TEST(CliIndex, BuildInfoAndMatchAgreeWithRefs) {
  TempDir dir;
  const std::string refs = write_refs(dir);
  const std::string orig = golden(kOrig).at("pdq_hex");
  const std::string input = orig + "\n" + golden("gnome_adwaita_l__jpeg_q50.jpg").at("pdq_hex") + "\n";
  const RunResult direct = run_cli({"match", "-q", "--refs", refs}, input);
  ASSERT_EQ(direct.status, 0) << describe(direct);
  for (const std::string type : {"flat", "mih", "hnsw", "ivf,nlist=1"}) {
    SCOPED_TRACE(type);
    const std::string index = dir / "known.hmi";
    const RunResult built = run_cli({"index", "build", "--refs", refs, "--type", type, "-o", index});
    ASSERT_EQ(built.status, 0) << describe(built);
    EXPECT_NE(built.err.find("indexed 3 pdq hashes"), std::string::npos) << built.err;
    const RunResult info = run_cli({"index", "info", "--format", "json", index});
    ASSERT_EQ(info.status, 0) << describe(info);
    const json j = json::parse(info.out);
    EXPECT_EQ(j["count"], 3);
    EXPECT_EQ(j["signal"], "pdq");
    EXPECT_EQ(j["type"], type);
    EXPECT_EQ(j["exact"], type == "flat" || type == "mih");
    EXPECT_EQ(j["threshold"], 31);
    EXPECT_EQ(j["metadata_columns"], json::array({"category"}));
    const RunResult via_index = run_cli({"match", "-q", "--index", "known=" + index}, input);
    EXPECT_EQ(via_index.status, 0) << describe(via_index);
    EXPECT_EQ(jsonl(via_index), jsonl(direct));
  }
}

TEST(CliIndex, BadListsAndIndexFilesAreClearErrors) {
  TempDir dir;
  {
    std::ofstream f(dir / "bad.txt");
    f << "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef a\nxyz b\n";
  }
  const RunResult bad = run_cli({"index", "build", "--refs", dir / "bad.txt", "-o", dir / "x.hmi"});
  EXPECT_EQ(bad.status, 2) << describe(bad);
  EXPECT_NE(bad.err.find(dir / "bad.txt:2:"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir / "x.hmi"));

  const RunResult skipped =
      run_cli({"index", "build", "--skip-bad-lines", "--refs", dir / "bad.txt", "-o", dir / "x.hmi"});
  EXPECT_EQ(skipped.status, 0) << describe(skipped);
  EXPECT_NE(skipped.err.find("skipped 1 bad lines"), std::string::npos) << skipped.err;
  const RunResult info = run_cli({"index", "info", dir / "x.hmi"});
  EXPECT_NE(info.out.find("1 bad lines skipped"), std::string::npos) << info.out;

  {
    std::ofstream f(dir / "foreign.hmi");
    f << "this is not an index\n";
  }
  const RunResult foreign = run_cli({"match", "--index", dir / "foreign.hmi"}, "");
  EXPECT_EQ(foreign.status, 2) << describe(foreign);
  EXPECT_NE(foreign.err.find(dir / "foreign.hmi"), std::string::npos) << foreign.err;
  EXPECT_NE(foreign.err.find("not a hashmatch index"), std::string::npos) << foreign.err;
  EXPECT_TRUE(foreign.out.empty());
  const RunResult info_foreign = run_cli({"index", "info", dir / "foreign.hmi", dir / "x.hmi"});
  EXPECT_EQ(info_foreign.status, 1) << describe(info_foreign);
  EXPECT_NE(info_foreign.out.find("entries:    1"), std::string::npos) << info_foreign.out;

  const RunResult no_lists = run_cli({"scan", image(kOrig)});
  EXPECT_EQ(no_lists.status, 2) << describe(no_lists);
  const RunResult same_names = run_cli({"match", "--refs", dir / "bad.txt", "--refs", dir / "bad.txt"}, "");
  EXPECT_EQ(same_names.status, 2) << describe(same_names);
  EXPECT_NE(same_names.err.find("two lists are named 'bad'"), std::string::npos) << same_names.err;
}

TEST(CliScan, CsvAndTextReportsCarryMatches) {
  TempDir dir;
  const std::string refs = write_refs(dir);
  const RunResult csv = run_cli({"scan", "-q", "--format", "csv", "--refs", refs, image(kOrig)});
  ASSERT_EQ(csv.status, 0) << describe(csv);
  const auto lines = lines_of(csv.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(",match_count,matches,"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(",1,known:known-orig:0:orig,"), std::string::npos) << lines[1];
  const RunResult text = run_cli({"scan", "-q", "--format", "text", "--refs", refs, image(kOrig)});
  EXPECT_NE(text.out.find("matches: known:known-orig:0:orig"), std::string::npos) << text.out;
}

}  // namespace
