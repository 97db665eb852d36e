// Every file of the reference's golden set through the whole engine: the
// hash, quality and 8 dihedral hashes must equal what Meta's reference
// pdq-photo-hasher printed (tests/data/pdq-golden/manifest.tsv).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "file_hasher.hpp"
#include "hash_record.hpp"

namespace {

const std::string kGoldenDir = std::string(HM_TEST_DATA) + "/pdq-golden";

struct GoldenRow {
  std::map<std::string, std::string> field;
  const std::string& operator[](const std::string& k) const { return field.at(k); }
};

std::vector<GoldenRow> load_manifest() {
  std::ifstream in(kGoldenDir + "/manifest.tsv");
  std::vector<GoldenRow> rows;
  std::string line;
  std::vector<std::string> header;
  auto split = [](const std::string& s) {
    std::vector<std::string> parts;
    std::stringstream ss(s);
    std::string part;
    while (std::getline(ss, part, '\t')) parts.push_back(part);
    if (!s.empty() && s.back() == '\t') parts.push_back("");
    return parts;
  };
  if (!std::getline(in, line)) return rows;
  header = split(line);
  while (std::getline(in, line)) {
    const auto parts = split(line);
    GoldenRow row;
    for (size_t i = 0; i < header.size(); ++i) row.field[header[i]] = i < parts.size() ? parts[i] : "";
    rows.push_back(std::move(row));
  }
  return rows;
}

const std::vector<std::string> kDihedralColumns = {
    "pdq_hex",   "dih_rot90", "dih_rot180",    "dih_rot270",
    "dih_flipx", "dih_flipy", "dih_flipplus1", "dih_flipminus1"};

class PdqGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { rows_ = new std::vector<GoldenRow>(load_manifest()); }
  static void TearDownTestSuite() { delete rows_; }
  static std::vector<GoldenRow>* rows_;
};
std::vector<GoldenRow>* PdqGolden::rows_ = nullptr;

TEST_F(PdqGolden, ManifestIsComplete) {
  ASSERT_EQ(rows_->size(), 401u) << "tests/data/pdq-golden/manifest.tsv missing or cut short";
}

int hamming(const hm::pdq::Hash256& a, const std::string& hex) {
  int d = 0;
  for (size_t i = 0; i < a.size(); ++i)
    d += __builtin_popcount(a[i] ^ (uint8_t)std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return d;
}

TEST_F(PdqGolden, HashableFilesMatchReferenceExactly) {
  hm::HashOptions options;
  options.dihedral = true;
  hm::FileHasher hasher(options);
  // Real 16-bit PNGs match the reference only in its low-byte mode (below).
  hm::HashOptions low_byte = options;
  low_byte.decode.sample16 = hm::Sample16::LowByte;
  hm::FileHasher reference_16bit(low_byte);
  int checked = 0;
  for (const GoldenRow& row : *rows_) {
    const std::string status = row["status"];
    if (status != "ok" && status != "ok_decoder_warning") continue;
    hm::FileHasher& h = row["variant"] == "png16_true" ? reference_16bit : hasher;
    const hm::HashRecord r = h.hash_file(kGoldenDir + "/images/" + row["file"]);
    SCOPED_TRACE(row["file"] + " (" + row["variant"] + ")");
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_TRUE(r.has_pdq && r.has_dihedral);
    EXPECT_EQ(std::to_string(r.width), row["width"]);
    EXPECT_EQ(std::to_string(r.height), row["height"]);
    EXPECT_EQ(hm::pdq_hex(r.pdq), row["pdq_hex"]);
    EXPECT_EQ(std::to_string(r.quality), row["quality"]);
    for (size_t t = 0; t < kDihedralColumns.size(); ++t)
      EXPECT_EQ(hm::pdq_hex(r.dihedral[t]), row[kDihedralColumns[t]]) << hm::kDihedralNames[t];
    if (status == "ok_decoder_warning") {
      EXPECT_FALSE(r.warnings.empty());
    }
    ++checked;
  }
  EXPECT_EQ(checked, 395);
}

// The reference keeps the low byte of 16-bit samples and hashes noise
// (distance ~255 to the 8-bit source). Scaling properly, the default, must
// land where the 8-bit original does.
TEST_F(PdqGolden, Scaled16BitPngsLandNearTheirSource) {
  std::map<std::string, std::string> source_hash;
  for (const GoldenRow& row : *rows_)
    if (row["variant"] == "orig") source_hash[row["source_id"]] = row["pdq_hex"];
  hm::FileHasher hasher(hm::HashOptions{});
  int checked = 0;
  for (const GoldenRow& row : *rows_) {
    if (row["variant"] != "png16_true" && row["variant"] != "png16_exact") continue;
    SCOPED_TRACE(row["file"]);
    const hm::HashRecord r = hasher.hash_file(kGoldenDir + "/images/" + row["file"]);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_LE(hamming(r.pdq, source_hash.at(row["source_id"])), 16);
    if (row["variant"] == "png16_true") {
      EXPECT_GE(std::stoi(row["dist_to_source"]), 200);
    }
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST_F(PdqGolden, BelowMinimumSizeGivesZeroHashFlagged) {
  hm::FileHasher hasher(hm::HashOptions{});
  int checked = 0;
  for (const GoldenRow& row : *rows_) {
    if (row["status"] != "below_min_dim") continue;
    const hm::HashRecord r = hasher.hash_file(kGoldenDir + "/images/" + row["file"]);
    SCOPED_TRACE(row["file"]);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_TRUE(r.pdq_below_min_size);
    EXPECT_EQ(hm::pdq_hex(r.pdq), std::string(64, '0'));
    EXPECT_EQ(r.quality, 0);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST_F(PdqGolden, UndecodableFilesGiveErrorRecordsWithDigests) {
  hm::FileHasher hasher(hm::HashOptions{});
  int checked = 0;
  for (const GoldenRow& row : *rows_) {
    if (row["status"] != "load_failed" && row["status"] != "tool_abort") continue;
    const hm::HashRecord r = hasher.hash_file(kGoldenDir + "/images/" + row["file"]);
    SCOPED_TRACE(row["file"]);
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.has_pdq);
    EXPECT_TRUE(r.error.rfind("decode: ", 0) == 0 || r.error.rfind("unsupported: ", 0) == 0)
        << r.error;
    // The bytes were read, so exact-digest matching still works for them.
    EXPECT_EQ(r.md5.size(), 32u);
    EXPECT_EQ(r.sha256.size(), 64u);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

}  // namespace
