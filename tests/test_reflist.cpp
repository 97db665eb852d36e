// Reference lists: every format and option, line-numbered errors, skipping,
// files; signal type names and hex codes.
#include <gtest/gtest.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "reflist.hpp"
#include "signal_type.hpp"

namespace {

namespace fs = std::filesystem;
using hm::RefList;
using hm::RefListError;
using hm::RefListOptions;
using hm::SignalType;
using Code = std::vector<uint8_t>;

constexpr SignalType kAllTypes[] = {SignalType::Pdq, SignalType::Md5, SignalType::Sha1, SignalType::Sha256};

Code random_code(std::mt19937_64& rng, size_t nbytes) {
  Code code(nbytes);
  for (uint8_t& byte : code) byte = static_cast<uint8_t>(rng() >> 56);
  return code;
}

std::vector<Code> random_codes(std::mt19937_64& rng, size_t count, size_t nbytes) {
  std::vector<Code> codes;
  for (size_t i = 0; i < count; ++i) codes.push_back(random_code(rng, nbytes));
  return codes;
}

/// The test's own hex formatting (printf), independent of hm::hex_of_code.
std::string hex(const Code& code, bool upper = false) {
  std::string out;
  char digits[3];
  for (uint8_t byte : code) {
    snprintf(digits, sizeof digits, upper ? "%02X" : "%02x", byte);
    out += digits;
  }
  return out;
}

Code code_at(const RefList& list, size_t i) {
  const uint8_t* code = list.code(i);
  return Code(code, code + hm::signal_code_bytes(list.signal));
}

RefList parse(const std::string& text, const RefListOptions& options = {}) {
  return hm::parse_reflist(text, "list.txt", options);
}

/// The message of the RefListError that parsing throws, or "" (a failure).
std::string error_of(const std::string& text, const RefListOptions& options = {}) {
  try {
    parse(text, options);
  } catch (const RefListError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no RefListError for:\n" << text;
  return "";
}

/// Checks that the list holds exactly these codes and ids, in order.
void expect_entries(const RefList& list, const std::vector<Code>& codes, const std::vector<std::string>& ids) {
  ASSERT_EQ(list.size(), codes.size());
  ASSERT_EQ(list.ids.size(), ids.size());
  ASSERT_EQ(list.codes.size(), codes.size() * static_cast<size_t>(hm::signal_code_bytes(list.signal)));
  for (size_t i = 0; i < codes.size(); ++i) {
    EXPECT_EQ(code_at(list, i), codes[i]) << "entry " << i;
    EXPECT_EQ(list.ids[i], ids[i]) << "entry " << i;
  }
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "hm_reflist_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp: " << strerror(errno);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string path = (path_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// ---------------------------------------------------------------- SignalType

TEST(SignalType, NamesSizesThresholds) {
  const int bytes[] = {32, 16, 20, 32};
  const char* names[] = {"pdq", "md5", "sha1", "sha256"};
  for (int i = 0; i < 4; ++i) {
    const SignalType type = kAllTypes[i];
    EXPECT_STREQ(hm::signal_name(type), names[i]);
    EXPECT_EQ(hm::signal_code_bytes(type), bytes[i]);
    EXPECT_EQ(hm::parse_signal_name(names[i]), type);
    std::string upper = names[i];
    for (char& c : upper) c = static_cast<char>(toupper(c));
    EXPECT_EQ(hm::parse_signal_name(upper), type) << upper;
    EXPECT_EQ(hm::signal_is_perceptual(type), type == SignalType::Pdq);
    EXPECT_EQ(hm::signal_default_threshold(type), type == SignalType::Pdq ? 31 : 0);
  }
}

TEST(SignalType, ThreatExchangeNames) {
  EXPECT_EQ(hm::parse_signal_name("video_md5"), SignalType::Md5);
  EXPECT_EQ(hm::parse_signal_name("photo_md5"), SignalType::Md5);
  EXPECT_EQ(hm::parse_signal_name("Video_MD5"), SignalType::Md5);
  EXPECT_EQ(hm::parse_signal_name("video_sha256"), SignalType::Sha256);
  // Other threatexchange types hash other things (URLs, text) and stay unknown.
  for (const char* other : {"url_md5", "raw_text", "text_md5", "video_tmk_pdqf", "pdq_ocr", "", "pdq "}) {
    EXPECT_FALSE(hm::parse_signal_name(other).has_value()) << other;
  }
}

TEST(SignalType, HexRoundTrip) {
  const uint64_t seed = 1201;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (SignalType type : kAllTypes) {
    const int nbytes = hm::signal_code_bytes(type);
    for (int trial = 0; trial < 50; ++trial) {
      const Code code = random_code(rng, static_cast<size_t>(nbytes));
      EXPECT_EQ(hm::hex_of_code(code.data(), nbytes), hex(code));
      for (bool upper : {false, true}) {
        Code decoded(static_cast<size_t>(nbytes));
        ASSERT_TRUE(hm::parse_hex_code(hex(code, upper), nbytes, decoded.data()));
        EXPECT_EQ(decoded, code);
      }
    }
  }
}

TEST(SignalType, HexRejects) {
  uint8_t out[32];
  const std::string good(64, 'a');
  EXPECT_TRUE(hm::parse_hex_code(good, 32, out));
  EXPECT_FALSE(hm::parse_hex_code(good.substr(1), 32, out));
  EXPECT_FALSE(hm::parse_hex_code(good + "a", 32, out));
  EXPECT_FALSE(hm::parse_hex_code(good + "aa", 32, out));
  EXPECT_FALSE(hm::parse_hex_code("", 32, out));
  EXPECT_FALSE(hm::parse_hex_code("0x" + good.substr(2), 32, out));
  for (char bad : {'g', 'G', ' ', '-', '\0', 'z'}) {
    for (size_t position : {size_t{0}, size_t{1}, size_t{33}, size_t{63}}) {
      std::string hex_text = good;
      hex_text[position] = bad;
      EXPECT_FALSE(hm::parse_hex_code(hex_text, 32, out)) << "'" << bad << "' at " << position;
    }
  }
}

// ---------------------------------------------------------- RefList: plain

TEST(RefListPlain, HashesWithoutIdsGetLineNumbers) {
  const uint64_t seed = 7;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Code> codes = random_codes(rng, 25, 32);
  std::string text;
  std::vector<std::string> ids;
  for (size_t i = 0; i < codes.size(); ++i) {
    text += hex(codes[i], i % 3 == 0) + "\n";  // some upper-case
    ids.push_back(std::to_string(i + 1));
  }
  const RefList list = parse(text);
  EXPECT_EQ(list.source, "list.txt");
  EXPECT_EQ(list.signal, SignalType::Pdq);
  expect_entries(list, codes, ids);
  EXPECT_TRUE(list.metadata_columns.empty());
  EXPECT_TRUE(list.metadata_values.empty());
  EXPECT_EQ(list.skipped_lines, 0u);
}

TEST(RefListPlain, IdsAfterSpaceTabOrComma) {
  const uint64_t seed = 8;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Code> codes = random_codes(rng, 7, 32);
  const std::string text = hex(codes[0]) + " alpha\n" +          //
                           hex(codes[1]) + "\tbeta\n" +          //
                           hex(codes[2]) + ",gamma\n" +          //
                           hex(codes[3]) + " , \t delta  \n" +   //
                           hex(codes[4]) + " two words, kept\n" +  //
                           "  " + hex(codes[5]) + "   \n" +        // no id: line number
                           hex(codes[6]) + ",\n";                  // empty id: line number
  const RefList list = parse(text);
  expect_entries(list, codes, {"alpha", "beta", "gamma", "delta", "two words, kept", "6", "7"});
}

TEST(RefListPlain, CommentsBlankLinesCrlfAndBom) {
  const uint64_t seed = 9;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Code> codes = random_codes(rng, 3, 32);
  const std::string text = "\xEF\xBB\xBF# exported list\r\n"    // 1
                           "\r\n"                               // 2
                           + hex(codes[0]) + "\r\n"             // 3
                           "   # indented comment\r\n"          // 4
                           " \t \r\n"                           // 5
                           + hex(codes[1]) + " ref-b\r\n"       // 6
                           + hex(codes[2]);                     // 7, no final newline
  const RefList list = parse(text);
  expect_entries(list, codes, {"3", "ref-b", "7"});
}

TEST(RefListPlain, BomBeforeFirstHash) {
  const uint64_t seed = 10;
  std::mt19937_64 rng(seed);
  const Code code = random_code(rng, 32);
  expect_entries(parse("\xEF\xBB\xBF" + hex(code) + "\n"), {code}, {"1"});
}

TEST(RefListPlain, DuplicatesKeptInFileOrder) {
  const uint64_t seed = 11;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const Code a = random_code(rng, 32), b = random_code(rng, 32);
  const std::string text = hex(a) + " first\n" + hex(b) + "\n" + hex(a) + " second\n" + hex(a, true) + " first\n";
  expect_entries(parse(text), {a, b, a, a}, {"first", "2", "second", "first"});
}

TEST(RefListPlain, DigestTypesDetectedByLength) {
  const uint64_t seed = 12;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (SignalType type : {SignalType::Md5, SignalType::Sha1, SignalType::Pdq}) {
    const std::vector<Code> codes = random_codes(rng, 4, static_cast<size_t>(hm::signal_code_bytes(type)));
    std::string text;
    for (const Code& code : codes) text += hex(code) + "\n";
    const RefList list = parse(text);
    EXPECT_EQ(list.signal, type) << hm::signal_name(type);
    expect_entries(list, codes, {"1", "2", "3", "4"});
  }
}

TEST(RefListPlain, Sha256NeedsTheOption) {
  const uint64_t seed = 13;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Code> codes = random_codes(rng, 3, 32);
  std::string text;
  for (const Code& code : codes) text += hex(code) + "\n";
  EXPECT_EQ(parse(text).signal, SignalType::Pdq);  // 64 hex digits read as pdq by default
  RefListOptions options;
  options.signal = SignalType::Sha256;
  const RefList list = parse(text, options);
  EXPECT_EQ(list.signal, SignalType::Sha256);
  expect_entries(list, codes, {"1", "2", "3"});
}

TEST(RefListPlain, OptionFixesTheLength) {
  const uint64_t seed = 14;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const Code md5 = random_code(rng, 16), pdq = random_code(rng, 32);
  RefListOptions options;
  options.signal = SignalType::Md5;
  const std::string text = hex(md5) + "\n" + hex(pdq) + "\n";
  EXPECT_EQ(error_of(text, options),
            "list.txt:2: bad hash '" + hex(pdq) + "': 64 hex digits, expected 32 for md5");
  // An empty list still reports the requested type.
  EXPECT_EQ(parse("", options).signal, SignalType::Md5);
}

// ------------------------------------------------------------ RefList: CSV

TEST(RefListCsv, HeaderIdAndQuotedMetadata) {
  const uint64_t seed = 20;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Code> codes = random_codes(rng, 4, 32);
  const std::string text = "id, PDQ ,label,note\n"
                           "r-1," + hex(codes[0]) + ",cat,plain\n"
                           "\"r,2\",\"" + hex(codes[1]) + "\",\"a, b\",\"say \"\"hi\"\"\"\n"
                           "# comment between rows\n"
                           "  r-3 , " + hex(codes[2]) + " , \" padded \" ,\n"
                           "," + hex(codes[3]) + ",,\"\"\n";
  const RefList list = parse(text);
  EXPECT_EQ(list.signal, SignalType::Pdq);
  expect_entries(list, codes, {"r-1", "r,2", "r-3", "6"});
  EXPECT_EQ(list.metadata_columns, (std::vector<std::string>{"label", "note"}));
  EXPECT_EQ(list.metadata_values,
            (std::vector<std::string>{"cat", "plain", "a, b", "say \"hi\"", " padded ", "", "", ""}));
}

TEST(RefListCsv, TsvWithQuotesAndEmptyTrailingField) {
  const uint64_t seed = 21;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Code> codes = random_codes(rng, 3, 32);
  const std::string text = "hash\tid\tnote\r\n" +
                           hex(codes[0]) + "\tA\tone, with comma\r\n" +
                           hex(codes[1]) + "\t\"B\tquoted tab\"\t\r\n" +
                           hex(codes[2]) + "\t \t \"x\" \r\n";
  const RefList list = parse(text);
  expect_entries(list, codes, {"A", "B\tquoted tab", "4"});
  EXPECT_EQ(list.metadata_columns, std::vector<std::string>{"note"});
  EXPECT_EQ(list.metadata_values, (std::vector<std::string>{"one, with comma", "", "x"}));
}

TEST(RefListCsv, NoIdColumnUsesLineNumbers) {
  const uint64_t seed = 22;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Code> codes = random_codes(rng, 2, 32);
  const std::string text = "# header follows\nsource,signal\nfeed-a," + hex(codes[0]) + "\n\nfeed-b," +
                           hex(codes[1]) + "\n";
  const RefList list = parse(text);
  expect_entries(list, codes, {"3", "5"});
  EXPECT_EQ(list.metadata_columns, std::vector<std::string>{"source"});
  EXPECT_EQ(list.metadata_values, (std::vector<std::string>{"feed-a", "feed-b"}));
}

TEST(RefListCsv, DigestColumnNamesFixTheType) {
  const uint64_t seed = 23;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (SignalType type : {SignalType::Md5, SignalType::Sha1, SignalType::Sha256}) {
    const std::vector<Code> codes = random_codes(rng, 3, static_cast<size_t>(hm::signal_code_bytes(type)));
    std::string text = std::string("id,") + hm::signal_name(type) + "\n";
    for (size_t i = 0; i < codes.size(); ++i) text += "e" + std::to_string(i) + "," + hex(codes[i]) + "\n";
    const RefList list = parse(text);
    EXPECT_EQ(list.signal, type) << hm::signal_name(type);
    expect_entries(list, codes, {"e0", "e1", "e2"});
    EXPECT_TRUE(list.metadata_columns.empty());
  }
}

TEST(RefListCsv, SignalOptionPicksItsColumn) {
  const uint64_t seed = 24;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::string text = "name,md5,sha1,sha256\n";
  std::vector<Code> md5s, sha1s, sha256s;
  for (int i = 0; i < 3; ++i) {
    md5s.push_back(random_code(rng, 16));
    sha1s.push_back(random_code(rng, 20));
    sha256s.push_back(random_code(rng, 32));
    text += "f" + std::to_string(i) + "," + hex(md5s.back()) + "," + hex(sha1s.back()) + "," + hex(sha256s.back()) + "\n";
  }
  // Without the option the first hash column (md5) is the hash.
  const RefList by_order = parse(text);
  EXPECT_EQ(by_order.signal, SignalType::Md5);
  expect_entries(by_order, md5s, {"2", "3", "4"});

  RefListOptions options;
  options.signal = SignalType::Sha1;
  const RefList list = parse(text, options);
  EXPECT_EQ(list.signal, SignalType::Sha1);
  expect_entries(list, sha1s, {"2", "3", "4"});
  EXPECT_EQ(list.metadata_columns, (std::vector<std::string>{"name", "md5", "sha256"}));
  EXPECT_EQ(list.metadata_values[0 * 3 + 2], hex(sha256s[0]));
  EXPECT_EQ(list.metadata_values[2 * 3 + 1], hex(md5s[2]));
}

TEST(RefListCsv, ColumnTypeConflictsWithOption) {
  const uint64_t seed = 25;
  std::mt19937_64 rng(seed);
  RefListOptions options;
  options.signal = SignalType::Sha256;
  EXPECT_EQ(error_of("#\nid,md5\nx," + hex(random_code(rng, 16)) + "\n", options),
            "list.txt:2: hash column 'md5' holds md5 hashes, but the list was requested as sha256");
}

TEST(RefListCsv, CustomHashAndIdColumns) {
  const uint64_t seed = 26;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Code> codes = random_codes(rng, 2, 20);
  // "hash" and "id" are present but the options name other columns.
  const std::string text = "hash,Photo_Hash,id,Case\nignored," + hex(codes[0]) + ",i1,c-10\nignored," +
                           hex(codes[1]) + ",i2,c-11\n";
  RefListOptions options;
  options.hash_column = "photo_hash";
  options.id_column = "case";
  const RefList list = parse(text, options);
  EXPECT_EQ(list.signal, SignalType::Sha1);
  expect_entries(list, codes, {"c-10", "c-11"});
  EXPECT_EQ(list.metadata_columns, (std::vector<std::string>{"hash", "id"}));
  EXPECT_EQ(list.metadata_values, (std::vector<std::string>{"ignored", "i1", "ignored", "i2"}));
}

TEST(RefListCsv, NamedColumnsMustExist) {
  const uint64_t seed = 27;
  std::mt19937_64 rng(seed);
  const std::string line = hex(random_code(rng, 32));
  RefListOptions hash_option;
  hash_option.hash_column = "phash";
  EXPECT_EQ(error_of("\n" + line + " a\n", hash_option),
            "list.txt:2: no header line with hash column 'phash' (first line is '" + line + " a')");
  EXPECT_EQ(error_of("pdq,id\n" + line + ",x\n", hash_option),
            "list.txt:1: no header line with hash column 'phash' (first line is 'pdq,id')");
  EXPECT_EQ(error_of("# nothing\n", hash_option), "list.txt: no header line with hash column 'phash'");

  RefListOptions id_option;
  id_option.id_column = "ref";
  EXPECT_EQ(error_of("pdq,id\n" + line + ",x\n", id_option), "list.txt:1: the header has no id column 'ref'");
  EXPECT_EQ(error_of(line + "\n", id_option),
            "list.txt:1: id column 'ref' needs a header line naming the hash column (first line is '" + line +
                "')");
}

TEST(RefListCsv, HeaderOnlyAndEmptyLists) {
  for (const char* text : {"", "\n\n", "# only a comment\n", "\xEF\xBB\xBF", "id,pdq,label\n", "pdq\r\n"}) {
    const RefList list = parse(text);
    EXPECT_EQ(list.size(), 0u) << text;
    EXPECT_TRUE(list.codes.empty());
    EXPECT_EQ(list.skipped_lines, 0u);
  }
  EXPECT_EQ(parse("id,pdq,label\n").metadata_columns, std::vector<std::string>{"label"});
  EXPECT_EQ(parse("id,md5\n").signal, SignalType::Md5);
}

// ------------------------------------------------ RefList: threatexchange

TEST(RefListThreatExchange, TypedLines) {
  const uint64_t seed = 30;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Code> codes = random_codes(rng, 4, 32);
  // `threatexchange hash` and `dataset -P -S` write "<type> <hash>"; plain
  // dataset -P appends the collaboration and the opinions, kept as the id.
  const std::string text = "pdq " + hex(codes[0]) + "\n" +
                           "PDQ\t" + hex(codes[1]) + "\n" +
                           "pdq " + hex(codes[2]) + " 'Sample Data' FetchedSignalMetadata(tags=['a'])\n" +
                           hex(codes[3]) + " plain-line\n";
  const RefList list = parse(text);
  EXPECT_EQ(list.signal, SignalType::Pdq);
  expect_entries(list, codes, {"1", "2", "'Sample Data' FetchedSignalMetadata(tags=['a'])", "plain-line"});
}

TEST(RefListThreatExchange, DigestNames) {
  const uint64_t seed = 31;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Code> md5s = random_codes(rng, 2, 16);
  const RefList md5_list = parse("video_md5 " + hex(md5s[0]) + "\nphoto_md5 " + hex(md5s[1]) + "\n");
  EXPECT_EQ(md5_list.signal, SignalType::Md5);
  expect_entries(md5_list, md5s, {"1", "2"});

  const std::vector<Code> shas = random_codes(rng, 2, 32);
  const RefList sha_list = parse("video_sha256 " + hex(shas[0]) + "\n" + hex(shas[1]) + "\n");
  EXPECT_EQ(sha_list.signal, SignalType::Sha256);
  expect_entries(sha_list, shas, {"1", "2"});
}

TEST(RefListThreatExchange, LengthTypedListLearnsSha256) {
  const uint64_t seed = 32;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Code> codes = random_codes(rng, 3, 32);
  const RefList list =
      parse(hex(codes[0]) + "\nvideo_sha256 " + hex(codes[1]) + "\nsha256 " + hex(codes[2]) + "\n");
  EXPECT_EQ(list.signal, SignalType::Sha256);
  expect_entries(list, codes, {"1", "2", "3"});
  // Once a line has named the type, another name is a mixed list.
  EXPECT_EQ(error_of("pdq " + hex(codes[0]) + "\nvideo_sha256 " + hex(codes[1]) + "\n"),
            "list.txt:2: signal type sha256 does not match the list's signal type pdq");
}

TEST(RefListThreatExchange, DatasetCsvExport) {
  const uint64_t seed = 33;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<Code> codes = random_codes(rng, 2, 32);
  const Code md5 = random_code(rng, 16);
  // The header `threatexchange dataset -P --csv` writes.
  const std::string text = "signal_type,signal_str,collab,category,tags\n"
                           "pdq," + hex(codes[0]) + ",Sample Data,ADVERSARIAL,a b\n"
                           "video_md5," + hex(md5) + ",Sample Data,ADVERSARIAL,\n"
                           "url_md5," + hex(md5) + ",Sample Data,ADVERSARIAL,\n"
                           "pdq," + hex(codes[1]) + ",Other,BENIGN,c\n";
  EXPECT_EQ(error_of(text), "list.txt:3: signal type md5 does not match the list's signal type pdq");
  RefListOptions options;
  options.skip_bad_lines = true;
  const RefList list = parse(text, options);
  EXPECT_EQ(list.signal, SignalType::Pdq);
  expect_entries(list, codes, {"2", "5"});
  EXPECT_EQ(list.metadata_columns, (std::vector<std::string>{"signal_type", "collab", "category", "tags"}));
  EXPECT_EQ(list.metadata_values, (std::vector<std::string>{"pdq", "Sample Data", "ADVERSARIAL", "a b", "pdq",
                                                             "Other", "BENIGN", "c"}));
  ASSERT_EQ(list.skipped_lines, 2u);
  EXPECT_EQ(list.skipped_examples[1], "list.txt:4: unsupported signal type 'url_md5'");
}

// ------------------------------------------------------ RefList: bad lines

TEST(RefListErrors, EachKindNamesPathLineAndField) {
  const uint64_t seed = 40;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::string good = hex(random_code(rng, 32));
  const std::string good_md5 = hex(random_code(rng, 16));
  const std::string short_hash = good.substr(0, 62);
  std::string non_hex = good;
  non_hex[10] = 'x';
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {good + "\n# c\n" + short_hash + " id\n",
       "list.txt:3: bad hash '" + short_hash + "': 62 hex digits, expected 64 for pdq"},
      {good + "\n" + non_hex + "\n", "list.txt:2: bad hash '" + non_hex + "': not hexadecimal"},
      {good + "\n" + good + "a\n", "list.txt:2: bad hash '" + good + "a': 65 hex digits, expected 64 for pdq"},
      {good + "\n" + good + "x id\n", "list.txt:2: bad hash '" + good + "x': not hexadecimal"},
      {"md5 " + good + "\n", "list.txt:1: bad hash '" + good + "': 64 hex digits, expected 32 for md5"},
      {"\n0123456789abcdef\n", "list.txt:2: bad hash '0123456789abcdef': 16 hex digits match no signal type "
                               "(64 pdq, 32 md5, 40 sha1)"},
      {good + "\n" + good_md5 + "\n", "list.txt:2: bad hash '" + good_md5 + "': 32 hex digits, expected 64 for pdq"},
      {good + "\nmd5 " + good_md5 + "\n", "list.txt:2: signal type md5 does not match the list's signal type pdq"},
      {good + "\nurl_md5 " + good_md5 + "\n", "list.txt:2: unsupported signal type 'url_md5'"},
      {good + "\npdq\n", "list.txt:2: missing hash after signal type 'pdq'"},
      {good + "\n, orphan id\n", "list.txt:2: missing hash before 'orphan id'"},
      {"id,pdq,note\na," + good + ",n\nb," + good + "\n",
       "list.txt:3: expected 3 fields as in the header, found 2"},
      {"id,pdq,note\na," + good + ",n\nb," + good + ",n,extra\n",
       "list.txt:3: expected 3 fields as in the header, found 4"},
      {"id,pdq\na,\n", "list.txt:2: missing hash in column 'pdq'"},
      {"id\tPdq\na\t  \n", "list.txt:2: missing hash in column 'Pdq'"},
      {"id,pdq\n\"a," + good + "\n", "list.txt:2: unterminated quoted field in column 1 (quoted fields may not span lines)"},
      {"id,pdq\n\"a\"b," + good + "\n", "list.txt:2: unexpected text after the closing quote of column 1: 'b," +
                                            good + "'"},
      {"id,pdq\na,zz\n", "list.txt:2: bad hash 'zz': not hexadecimal"},
  };
  for (const Case& c : cases) EXPECT_EQ(error_of(c.text), c.message) << c.text;
}

TEST(RefListErrors, LongFieldIsCut) {
  const std::string junk(500, 'q');
  const std::string message = error_of(junk + "\n");
  EXPECT_EQ(message, "list.txt:1: bad hash '" + junk.substr(0, 80) + "...': not hexadecimal");
}

TEST(RefListErrors, SkipBadLinesCountsAndKeepsFirstExamples) {
  const uint64_t seed = 41;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::string text = "not a hash at all\n";  // line 1 bad: the type comes from the first good line
  std::vector<Code> codes;
  std::vector<std::string> ids, bad_lines = {"1"};
  size_t line = 1;
  for (int i = 0; i < 30; ++i) {
    codes.push_back(random_code(rng, 16));
    text += hex(codes.back()) + " good" + std::to_string(i) + "\n";
    ids.push_back("good" + std::to_string(i));
    ++line;
    if (i % 3 == 0) {
      text += hex(random_code(rng, 20)) + "\n";  // sha1 in an md5 list
      bad_lines.push_back(std::to_string(++line));
    }
  }
  RefListOptions options;
  options.skip_bad_lines = true;
  const RefList list = parse(text, options);
  EXPECT_EQ(list.signal, SignalType::Md5);
  expect_entries(list, codes, ids);
  EXPECT_EQ(list.skipped_lines, bad_lines.size());
  ASSERT_EQ(list.skipped_examples.size(), 5u);
  EXPECT_EQ(list.skipped_examples[0], "list.txt:1: bad hash 'not': not hexadecimal");
  for (size_t i = 1; i < 5; ++i) {
    EXPECT_EQ(list.skipped_examples[i].rfind("list.txt:" + bad_lines[i] + ": bad hash '", 0), 0u)
        << list.skipped_examples[i];
    EXPECT_NE(list.skipped_examples[i].find("40 hex digits, expected 32 for md5"), std::string::npos);
  }
}

TEST(RefListErrors, HeaderProblemsAreNotSkipped) {
  RefListOptions options;
  options.skip_bad_lines = true;
  options.id_column = "ref";
  EXPECT_EQ(error_of("pdq,id\n", options), "list.txt:1: the header has no id column 'ref'");
}

// ---------------------------------------------------------- RefList: files

TEST(RefListFile, LoadsLikeParse) {
  const uint64_t seed = 50;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::vector<Code> codes = random_codes(rng, 5, 32);
  std::string text = "id,pdq,note\n";
  for (size_t i = 0; i < codes.size(); ++i) text += "r" + std::to_string(i) + "," + hex(codes[i]) + ",\"n\"\n";
  const std::string path = dir.write("refs.weird-extension", text);
  const RefList list = hm::load_reflist(path, {});
  EXPECT_EQ(list.source, path);
  expect_entries(list, codes, {"r0", "r1", "r2", "r3", "r4"});
  EXPECT_EQ(list.metadata_values, std::vector<std::string>(5, "n"));

  const std::string empty = dir.write("empty.csv", "");
  EXPECT_EQ(hm::load_reflist(empty, {}).size(), 0u);
}

TEST(RefListFile, ErrorsNameTheFile) {
  TempDir dir;
  const std::string path = dir.write("bad.txt", "# list\nzz\n");
  try {
    hm::load_reflist(path, {});
    ADD_FAILURE() << "no error";
  } catch (const RefListError& error) {
    EXPECT_EQ(std::string(error.what()), path + ":2: bad hash 'zz': not hexadecimal");
  }
}

TEST(RefListFile, UnreadableFile) {
  TempDir dir;
  const std::string missing = (dir.path() / "missing.txt").string();
  const std::string directory = dir.path().string();
  const std::pair<std::string, int> cases[] = {{missing, ENOENT}, {directory, EISDIR}};
  for (const auto& [path, error_number] : cases) {
    try {
      hm::load_reflist(path, {});
      ADD_FAILURE() << "no error for " << path;
    } catch (const RefListError& error) {
      EXPECT_EQ(std::string(error.what()), path + ": " + strerror(error_number));
    }
  }
  if (geteuid() != 0) {  // root reads anything
    const std::string locked = dir.write("locked.txt", "abc\n");
    fs::permissions(locked, fs::perms::none);
    try {
      hm::load_reflist(locked, {});
      ADD_FAILURE() << "no error for " << locked;
    } catch (const RefListError& error) {
      EXPECT_EQ(std::string(error.what()), locked + ": " + strerror(EACCES));
    }
  }
}

TEST(RefListFile, LargeGeneratedList) {
  const uint64_t seed = 51;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  constexpr size_t kLines = 200000;
  std::vector<Code> codes;
  codes.reserve(kLines);
  std::string text;
  text.reserve(kLines * 75);
  for (size_t i = 0; i < kLines; ++i) {
    codes.push_back(random_code(rng, 32));
    text += hex(codes.back());
    if (i % 2 == 0) text += " ref" + std::to_string(i);
    text += '\n';
  }
  TempDir dir;
  const std::string path = dir.write("big.txt", text);
  const RefList list = hm::load_reflist(path, {});
  ASSERT_EQ(list.size(), kLines);
  EXPECT_EQ(list.signal, SignalType::Pdq);
  EXPECT_EQ(list.codes.size(), kLines * 32);
  for (size_t i : {size_t{0}, size_t{1}, size_t{2}, size_t{777}, size_t{100001}, kLines - 2, kLines - 1}) {
    EXPECT_EQ(code_at(list, i), codes[i]) << "entry " << i;
    EXPECT_EQ(list.ids[i], i % 2 == 0 ? "ref" + std::to_string(i) : std::to_string(i + 1)) << "entry " << i;
  }
}

TEST(RefListAppend, ChecksMetadataWidth) {
  RefList list;
  list.signal = SignalType::Md5;
  list.metadata_columns = {"a"};
  const uint8_t code[16] = {1, 2, 3};
  list.append(code, "x", {"va"});
  EXPECT_THROW(list.append(code, "y"), std::invalid_argument);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(code_at(list, 0), Code(code, code + 16));
  EXPECT_EQ(list.metadata_values, std::vector<std::string>{"va"});
}

}  // namespace
