// JSON / CSV text helpers (engine/json.hpp) and the report formats
// (engine/report_writer.hpp): escaping, UTF-8 handling, RFC 4180 quoting,
// which fields each record carries.
#include <gtest/gtest.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hash_record.hpp"
#include "json.hpp"
#include "report_writer.hpp"

namespace {

using nlohmann::json;

const std::string kFffd = "\xef\xbf\xbd";

std::string json_string(std::string_view s) {
  std::string out;
  hm::append_json_string(out, s);
  return out;
}

std::string csv_field(std::string_view s) {
  std::string out;
  hm::append_csv_field(out, s);
  return out;
}

/// Independent hex of raw bytes.
std::string hex_of(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    char buf[3];
    snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

/// A strict RFC 4180 parser (records end with LF or CRLF; quoted fields may
/// hold commas, quotes doubled, line breaks). Fails the test on malformed input.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    any = true;
    if (text[i] == '"') {
      ++i;
      while (true) {
        if (i >= text.size()) {
          ADD_FAILURE() << "unterminated quoted CSV field in: " << text;
          return rows;
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(text[i++]);
      }
      if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        ADD_FAILURE() << "garbage after a quoted CSV field at " << i << " in: " << text;
        return rows;
      }
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        if (text[i] == '"') {
          ADD_FAILURE() << "bare quote in unquoted CSV field at " << i << " in: " << text;
          return rows;
        }
        field.push_back(text[i++]);
      }
    }
    if (i == text.size()) break;
    if (text[i] == ',') {
      row.push_back(std::move(field));
      field.clear();
      ++i;
      continue;
    }
    if (text[i] == '\r') ++i;
    if (i < text.size() && text[i] == '\n') ++i;
    row.push_back(std::move(field));
    field.clear();
    rows.push_back(std::move(row));
    row.clear();
    any = false;
  }
  if (any) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

hm::pdq::Hash256 make_hash(uint8_t seed) {
  hm::pdq::Hash256 h{};
  for (size_t i = 0; i < h.size(); ++i) h[i] = (uint8_t)(seed + 7 * i);
  return h;
}

hm::HashRecord ok_record(const std::string& path) {
  hm::HashRecord r;
  r.path = path;
  r.has_bytes = true;
  r.bytes = 41774;
  r.format = "jpeg";
  r.width = 1024;
  r.height = 768;
  r.has_pdq = true;
  r.pdq = make_hash(3);
  r.quality = 87;
  r.has_dihedral = true;
  for (size_t t = 0; t < r.dihedral.size(); ++t) r.dihedral[t] = make_hash((uint8_t)(3 + 40 * t));
  r.dihedral[0] = r.pdq;
  r.md5 = "0123456789abcdef0123456789abcdef";
  r.sha1 = "0123456789abcdef0123456789abcdef01234567";
  r.sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  return r;
}

hm::HashRecord error_record(const std::string& path, const std::string& error) {
  hm::HashRecord r;
  r.path = path;
  r.error = error;
  return r;
}

// ---------------------------------------------------------------- UTF-8

TEST(JsonUtf8, ValidSequences) {
  EXPECT_TRUE(hm::is_valid_utf8(""));
  EXPECT_TRUE(hm::is_valid_utf8("plain ascii / path.jpg"));
  EXPECT_TRUE(hm::is_valid_utf8(std::string_view("nul\0inside", 10)));
  EXPECT_TRUE(hm::is_valid_utf8("\x7f"));
  EXPECT_TRUE(hm::is_valid_utf8("\xc2\x80"));              // U+0080, smallest 2-byte
  EXPECT_TRUE(hm::is_valid_utf8("caf\xc3\xa9"));           // é
  EXPECT_TRUE(hm::is_valid_utf8("\xdf\xbf"));              // U+07FF
  EXPECT_TRUE(hm::is_valid_utf8("\xe0\xa0\x80"));          // U+0800
  EXPECT_TRUE(hm::is_valid_utf8("\xe2\x82\xac"));          // €
  EXPECT_TRUE(hm::is_valid_utf8("\xed\x9f\xbf"));          // U+D7FF, just below surrogates
  EXPECT_TRUE(hm::is_valid_utf8("\xee\x80\x80"));          // U+E000, just above
  EXPECT_TRUE(hm::is_valid_utf8("\xef\xbf\xbd"));          // U+FFFD
  EXPECT_TRUE(hm::is_valid_utf8("\xf0\x90\x80\x80"));      // U+10000
  EXPECT_TRUE(hm::is_valid_utf8("\xf0\x9f\x98\x80"));      // 😀
  EXPECT_TRUE(hm::is_valid_utf8("\xf4\x8f\xbf\xbf"));      // U+10FFFF
  EXPECT_TRUE(hm::is_valid_utf8("\xe6\x97\xa5\xe6\x9c\xac/\xd0\x9f.png"));
}

const std::vector<std::string> kInvalidUtf8 = {
    "\x80",                  // stray continuation byte
    "a\xbf" "b",             // stray continuation in the middle
    "\xc0\x80",              // overlong NUL
    "\xc0\xaf",              // overlong '/'
    "\xc1\xbf",              // overlong U+007F
    "\xe0\x80\x80",          // overlong 3-byte
    "\xe0\x9f\xbf",          // overlong U+07FF
    "\xf0\x80\x80\x80",      // overlong 4-byte
    "\xf0\x8f\xbf\xbf",      // overlong U+FFFF
    "\xed\xa0\x80",          // U+D800 high surrogate
    "\xed\xbf\xbf",          // U+DFFF low surrogate
    "\xed\xa0\xbd\xed\xb8\x80",  // CESU-8 surrogate pair
    "\xf4\x90\x80\x80",      // U+110000
    "\xf5\x80\x80\x80",      // lead byte past U+10FFFF
    "\xf7\xbf\xbf\xbf",      // U+1FFFFF
    "\xf8\x88\x80\x80\x80",  // 5-byte form
    "\xfc\x84\x80\x80\x80\x80",  // 6-byte form
    "\xfe",
    "\xff",
    "\xc3",                  // truncated 2-byte at end
    "\xe2\x82",              // truncated 3-byte at end
    "\xf0\x9f\x98",          // truncated 4-byte at end
    "\xc3" "a",              // lead byte followed by ASCII
    "\xe2\x82" "A",          // truncated 3-byte followed by ASCII
    "\xf0\x9f" "\xc3\xa9",   // truncated 4-byte followed by a valid sequence
    "ok\xff",                // invalid after valid text
};

TEST(JsonUtf8, InvalidSequences) {
  for (const auto& s : kInvalidUtf8) EXPECT_FALSE(hm::is_valid_utf8(s)) << hex_of(s);
}

// ---------------------------------------------------------------- JSON strings

TEST(JsonString, PlainAndEscapes) {
  EXPECT_EQ(json_string(""), "\"\"");
  EXPECT_EQ(json_string("abc"), "\"abc\"");
  EXPECT_EQ(json_string("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(json_string("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(json_string("/"), "\"/\"");
  EXPECT_EQ(json_string("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(json_string(std::string_view("a\0b", 3)), "\"a\\u0000b\"");
  EXPECT_EQ(json_string("\x01\x1f"), "\"\\u0001\\u001f\"");
  EXPECT_EQ(json_string("\x1b[0m"), "\"\\u001b[0m\"");
  EXPECT_EQ(json_string("del\x7f"), "\"del\\u007f\"");
  EXPECT_EQ(json_string(" ~"), "\" ~\"");
}

TEST(JsonString, AppendsWithoutClobbering) {
  std::string out = "{\"k\":";
  hm::append_json_string(out, "v");
  EXPECT_EQ(out, "{\"k\":\"v\"");
}

TEST(JsonString, EveryAsciiByteRoundTrips) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back((char)c);
  const std::string lit = json_string(all);
  // No raw control characters in the output.
  for (unsigned char c : lit) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << (int)c;
  EXPECT_EQ(json::parse(lit).get<std::string>(), all);
}

TEST(JsonString, ValidMultiByteKeptVerbatim) {
  const std::vector<std::string> samples = {
      "caf\xc3\xa9.jpg", "\xe2\x82\xac", "\xf0\x9f\x98\x80 smile", "\xf4\x8f\xbf\xbf",
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/\xd0\x9f\xd1\x80\xd0\xb8.png", "\xef\xbf\xbd",
      "\xe2\x80\xa8 line sep"};
  for (const auto& s : samples) {
    const std::string lit = json_string(s);
    EXPECT_EQ(lit, "\"" + s + "\"") << "multi-byte UTF-8 must be copied, not escaped";
    EXPECT_EQ(json::parse(lit).get<std::string>(), s);
  }
}

TEST(JsonString, InvalidBytesBecomeReplacementCharacter) {
  // Single bad bytes: exactly one U+FFFD each, the rest kept.
  EXPECT_EQ(json_string("a\x80z"), "\"a" + kFffd + "z\"");
  EXPECT_EQ(json_string("\xff"), "\"" + kFffd + "\"");
  EXPECT_EQ(json_string("\xfe\xff"), "\"" + kFffd + kFffd + "\"");
  EXPECT_EQ(json_string("x\xc3"), "\"x" + kFffd + "\"");
  EXPECT_EQ(json_string("\xc3" "a"), "\"" + kFffd + "a\"");
  // Valid sequences next to invalid ones survive.
  EXPECT_EQ(json_string("\xff\xc3\xa9\xff"), "\"" + kFffd + "\xc3\xa9" + kFffd + "\"");

  for (const auto& bad : kInvalidUtf8) {
    const std::string input = "<" + bad + ">";
    const std::string lit = json_string(input);
    SCOPED_TRACE(hex_of(bad));
    EXPECT_TRUE(hm::is_valid_utf8(lit));
    std::string parsed;
    ASSERT_NO_THROW(parsed = json::parse(lit).get<std::string>()) << lit;
    EXPECT_NE(parsed.find(kFffd), std::string::npos);
    EXPECT_EQ(parsed.front(), '<');
    EXPECT_EQ(parsed.back(), '>');
    // No bytes of the invalid input leak through except ASCII and whole valid sequences.
    for (size_t i = 0; i < parsed.size(); ++i)
      if ((unsigned char)parsed[i] >= 0xf8) ADD_FAILURE() << "raw byte leaked: " << hex_of(parsed);
  }
}

// ---------------------------------------------------------------- CSV fields

TEST(JsonCsvField, QuotingPerRfc4180) {
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("plain.jpg"), "plain.jpg");
  EXPECT_EQ(csv_field("with space.jpg"), "with space.jpg");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("\""), "\"\"\"\"");
  EXPECT_EQ(csv_field("line1\nline2"), "\"line1\nline2\"");
  EXPECT_EQ(csv_field("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(csv_field("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(JsonCsvField, RoundTripsThroughAStrictParser) {
  const std::vector<std::string> samples = {"a",     "a,b",       "\"quoted\"", "x\"y,z\nw",
                                            "\r\n", ",,,",       "trailing,", "caf\xc3\xa9,\""};
  for (const auto& s : samples) {
    const auto rows = parse_csv(csv_field(s) + "," + csv_field("next") + "\n");
    ASSERT_EQ(rows.size(), 1u) << s;
    ASSERT_EQ(rows[0].size(), 2u) << s;
    EXPECT_EQ(rows[0][0], s);
    EXPECT_EQ(rows[0][1], "next");
  }
}

// ---------------------------------------------------------------- JSON records

TEST(ReportJson, OkRecordCarriesDefaultFields) {
  const hm::HashRecord r = ok_record("dir/photo.jpg");
  const std::string text = hm::record_to_json(r, hm::ReportFields{});
  EXPECT_EQ(text.find('\n'), std::string::npos);
  const json j = json::parse(text);
  EXPECT_EQ(j.at("path"), "dir/photo.jpg");
  EXPECT_EQ(j.at("status"), "ok");
  EXPECT_FALSE(j.contains("error"));
  EXPECT_FALSE(j.contains("path_hex"));
  EXPECT_EQ(j.at("pdq"), hex_of(std::string(r.pdq.begin(), r.pdq.end())));
  EXPECT_EQ(j.at("quality"), 87);
  EXPECT_EQ(j.at("width"), 1024);
  EXPECT_EQ(j.at("height"), 768);
  EXPECT_EQ(j.at("bytes"), 41774);
  EXPECT_EQ(j.at("format"), "jpeg");
  EXPECT_EQ(j.at("md5"), r.md5);
  EXPECT_EQ(j.at("sha1"), r.sha1);
  EXPECT_EQ(j.at("sha256"), r.sha256);
  EXPECT_FALSE(j.contains("pdq_dihedral"));
  EXPECT_FALSE(j.contains("warnings"));
  // Contract: path first, then status.
  EXPECT_EQ(text.rfind("{\"path\":", 0), 0u) << text;
  EXPECT_LT(text.find("\"path\""), text.find("\"status\""));
}

TEST(ReportJson, DihedralWhenAskedInReferenceOrder) {
  const hm::HashRecord r = ok_record("a.jpg");
  hm::ReportFields f;
  f.dihedral = true;
  const json j = json::parse(hm::record_to_json(r, f));
  ASSERT_TRUE(j.contains("pdq_dihedral"));
  ASSERT_EQ(j.at("pdq_dihedral").size(), 8u);
  for (size_t t = 0; t < 8; ++t)
    EXPECT_EQ(j.at("pdq_dihedral")[t],
              hex_of(std::string(r.dihedral[t].begin(), r.dihedral[t].end())))
        << t;
  EXPECT_EQ(j.at("pdq_dihedral")[0], j.at("pdq"));
}

TEST(ReportJson, OnlyRequestedFields) {
  const hm::HashRecord r = ok_record("a.jpg");
  {
    hm::ReportFields f;
    f.pdq = false;
    const json j = json::parse(hm::record_to_json(r, f));
    EXPECT_FALSE(j.contains("pdq"));
    EXPECT_FALSE(j.contains("quality"));
    EXPECT_FALSE(j.contains("pdq_dihedral"));
    EXPECT_TRUE(j.contains("md5"));
  }
  {
    hm::ReportFields f;
    f.pdq = f.sha1 = f.sha256 = false;
    const json j = json::parse(hm::record_to_json(r, f));
    EXPECT_EQ(j.at("md5"), r.md5);
    EXPECT_FALSE(j.contains("sha1"));
    EXPECT_FALSE(j.contains("sha256"));
    EXPECT_FALSE(j.contains("pdq"));
    EXPECT_EQ(j.at("status"), "ok");
  }
  {
    hm::ReportFields f;
    f.md5 = false;
    f.sha256 = false;
    const json j = json::parse(hm::record_to_json(r, f));
    EXPECT_FALSE(j.contains("md5"));
    EXPECT_TRUE(j.contains("sha1"));
    EXPECT_FALSE(j.contains("sha256"));
    EXPECT_TRUE(j.contains("pdq"));
  }
}

TEST(ReportJson, ErrorRecord) {
  hm::HashRecord r = error_record("bad \"file\".jpg", "decode: Bogus Huffman table definition");
  r.has_bytes = true;
  r.bytes = 400;
  r.md5 = "8c1d04cc5d8627152c7dd8378fe35166";
  hm::ReportFields f;
  f.dihedral = true;
  const json j = json::parse(hm::record_to_json(r, f));
  EXPECT_EQ(j.at("path"), "bad \"file\".jpg");
  EXPECT_EQ(j.at("status"), "error");
  EXPECT_EQ(j.at("error"), "decode: Bogus Huffman table definition");
  EXPECT_FALSE(j.contains("pdq"));
  EXPECT_FALSE(j.contains("quality"));
  EXPECT_FALSE(j.contains("pdq_dihedral"));
  EXPECT_EQ(j.at("md5"), r.md5);  // digests of bytes that were read stay useful
}

TEST(ReportJson, ErrorRecordWithNothingRead) {
  const json j =
      json::parse(hm::record_to_json(error_record("missing.jpg", "read: No such file or directory"),
                                     hm::ReportFields{}));
  EXPECT_EQ(j.at("status"), "error");
  EXPECT_EQ(j.at("error"), "read: No such file or directory");
  for (const char* key : {"pdq", "quality", "md5", "sha1", "sha256", "width", "height", "bytes"})
    EXPECT_FALSE(j.contains(key)) << key;
}

TEST(ReportJson, PathsWithSpecialCharactersRoundTrip) {
  const std::vector<std::string> paths = {
      "with \"quotes\".jpg", "back\\slash.jpg", "new\nline.jpg", "tab\there.jpg",
      "ctrl\x01\x1f\x7f.jpg", "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.png", "\xf0\x9f\x98\x80.gif",
      "comma,semi;colon.bmp"};
  for (const auto& p : paths) {
    const std::string text = hm::record_to_json(ok_record(p), hm::ReportFields{});
    EXPECT_EQ(text.find('\n'), std::string::npos) << "one record per line";
    const json j = json::parse(text);
    EXPECT_EQ(j.at("path").get<std::string>(), p);
    EXPECT_FALSE(j.contains("path_hex")) << "valid UTF-8 paths need no path_hex";
  }
}

TEST(ReportJson, InvalidUtf8PathGetsPathHex) {
  for (const auto& bad : kInvalidUtf8) {
    const std::string path = "dir/" + bad + ".jpg";
    SCOPED_TRACE(hex_of(path));
    for (bool ok : {true, false}) {
      const hm::HashRecord r = ok ? ok_record(path) : error_record(path, "read: whatever");
      const std::string text = hm::record_to_json(r, hm::ReportFields{});
      json j;
      ASSERT_NO_THROW(j = json::parse(text)) << text;
      ASSERT_TRUE(j.contains("path_hex"));
      EXPECT_EQ(j.at("path_hex"), hex_of(path));
      const std::string shown = j.at("path");
      EXPECT_EQ(shown.rfind("dir/", 0), 0u);
      EXPECT_NE(shown.find(kFffd), std::string::npos);
      EXPECT_TRUE(hm::is_valid_utf8(shown));
      EXPECT_EQ(j.at("status"), ok ? "ok" : "error");
    }
  }
  // An exact case.
  const json j = json::parse(hm::record_to_json(ok_record("\xff\xfe.jpg"), hm::ReportFields{}));
  EXPECT_EQ(j.at("path"), kFffd + kFffd + ".jpg");
  EXPECT_EQ(j.at("path_hex"), "fffe2e6a7067");
}

TEST(ReportJson, WarningsAndBelowMinSize) {
  hm::HashRecord r = ok_record("w.jpg");
  r.warnings = {"decode: Premature end of JPEG file", "odd \"warning\"\n"};
  r.pdq_below_min_size = true;
  const json j = json::parse(hm::record_to_json(r, hm::ReportFields{}));
  ASSERT_TRUE(j.at("warnings").is_array());
  EXPECT_EQ(j.at("warnings"), json(r.warnings));
  EXPECT_EQ(j.at("pdq_below_min_size"), true);
}

// ---------------------------------------------------------------- CSV records

std::map<std::string, std::string> csv_map(const std::string& header, const std::string& row) {
  const auto h = parse_csv(header + "\n");
  const auto r = parse_csv(row + "\n");
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(r.size(), 1u) << row;
  std::map<std::string, std::string> m;
  if (h.size() != 1 || r.size() != 1) return m;
  EXPECT_EQ(h[0].size(), r[0].size()) << header << "\n" << row;
  for (size_t i = 0; i < h[0].size() && i < r[0].size(); ++i) m[h[0][i]] = r[0][i];
  return m;
}

TEST(ReportCsv, HeaderAndRowAgree) {
  const hm::HashRecord r = ok_record("dir/photo.jpg");
  const hm::ReportFields f;
  const std::string header = hm::csv_header(f);
  EXPECT_EQ(header.rfind("path,status,", 0), 0u) << header;
  const auto m = csv_map(header, hm::record_to_csv(r, f));
  EXPECT_EQ(m.at("path"), "dir/photo.jpg");
  EXPECT_EQ(m.at("status"), "ok");
  EXPECT_EQ(m.at("error"), "");
  EXPECT_EQ(m.at("pdq"), hex_of(std::string(r.pdq.begin(), r.pdq.end())));
  EXPECT_EQ(m.at("quality"), "87");
  EXPECT_EQ(m.at("width"), "1024");
  EXPECT_EQ(m.at("height"), "768");
  EXPECT_EQ(m.at("md5"), r.md5);
  EXPECT_EQ(m.at("sha1"), r.sha1);
  EXPECT_EQ(m.at("sha256"), r.sha256);
  EXPECT_EQ(m.count("pdq_rot90"), 0u);
}

TEST(ReportCsv, DihedralColumns) {
  const hm::HashRecord r = ok_record("a.jpg");
  hm::ReportFields f;
  f.dihedral = true;
  const auto m = csv_map(hm::csv_header(f), hm::record_to_csv(r, f));
  for (size_t t = 1; t < 8; ++t) {
    const std::string key = std::string("pdq_") + hm::kDihedralNames[t];
    ASSERT_EQ(m.count(key), 1u) << key;
    EXPECT_EQ(m.at(key), hex_of(std::string(r.dihedral[t].begin(), r.dihedral[t].end()))) << key;
  }
  EXPECT_EQ(m.at("pdq"), hex_of(std::string(r.pdq.begin(), r.pdq.end())));
}

TEST(ReportCsv, OnlyRequestedColumns) {
  hm::ReportFields f;
  f.pdq = false;
  f.sha1 = false;
  f.sha256 = false;
  const hm::HashRecord r = ok_record("a.jpg");
  const auto m = csv_map(hm::csv_header(f), hm::record_to_csv(r, f));
  EXPECT_EQ(m.count("pdq"), 0u);
  EXPECT_EQ(m.count("quality"), 0u);
  EXPECT_EQ(m.count("sha1"), 0u);
  EXPECT_EQ(m.count("sha256"), 0u);
  EXPECT_EQ(m.at("md5"), r.md5);
}

TEST(ReportCsv, ErrorRowAndQuoting) {
  hm::ReportFields f;
  f.dihedral = true;
  const std::string path = "we,ird \"name\"\nhere.jpg";
  const hm::HashRecord r = error_record(path, "decode: bad, \"very\" bad");
  const auto m = csv_map(hm::csv_header(f), hm::record_to_csv(r, f));
  EXPECT_EQ(m.at("path"), path);
  EXPECT_EQ(m.at("status"), "error");
  EXPECT_EQ(m.at("error"), "decode: bad, \"very\" bad");
  EXPECT_EQ(m.at("pdq"), "");
  EXPECT_EQ(m.at("quality"), "");
  EXPECT_EQ(m.at("pdq_rot90"), "");
  EXPECT_EQ(m.at("md5"), "");
}

TEST(ReportCsv, WarningsFieldIsOneQuotedField) {
  hm::HashRecord r = ok_record("a.jpg");
  r.warnings = {"first, with comma", "second \"quoted\""};
  const hm::ReportFields f;
  const auto m = csv_map(hm::csv_header(f), hm::record_to_csv(r, f));
  ASSERT_EQ(m.count("warnings"), 1u);
  EXPECT_NE(m.at("warnings").find("first, with comma"), std::string::npos);
  EXPECT_NE(m.at("warnings").find("second \"quoted\""), std::string::npos);
}

// ---------------------------------------------------------------- text records

TEST(ReportText, OkAndErrorLines) {
  const hm::HashRecord r = ok_record("dir/a b.jpg");
  const std::string pdq = hex_of(std::string(r.pdq.begin(), r.pdq.end()));
  EXPECT_EQ(hm::record_to_text(r, hm::ReportFields{}),
            pdq + " 87 " + r.md5 + " " + r.sha1 + " " + r.sha256 + "  dir/a b.jpg");
  hm::ReportFields md5_only;
  md5_only.pdq = md5_only.sha1 = md5_only.sha256 = false;
  EXPECT_EQ(hm::record_to_text(r, md5_only), r.md5 + "  dir/a b.jpg");
  const std::string err =
      hm::record_to_text(error_record("x.png", "decode: empty file"), hm::ReportFields{});
  EXPECT_EQ(err, "error: decode: empty file  x.png");
}

// ---------------------------------------------------------------- the writer

std::string write_all(hm::ReportFormat format, const std::vector<hm::HashRecord>& records,
                      hm::ReportFields f = {}) {
  char* buf = nullptr;
  size_t size = 0;
  FILE* mem = open_memstream(&buf, &size);
  EXPECT_NE(mem, nullptr);
  if (!mem) return {};
  {
    hm::ReportWriter w(mem, format, f);
    for (const auto& r : records) w.write(r);
    w.flush();
  }
  fclose(mem);
  std::string out(buf, size);
  free(buf);
  return out;
}

TEST(ReportWriter, JsonlOneLinePerRecord) {
  const std::vector<hm::HashRecord> recs = {ok_record("a\nb.jpg"), error_record("c", "read: x"),
                                            ok_record("\xff.jpg")};
  const std::string out = write_all(hm::ReportFormat::Jsonl, recs);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(out.substr(start, nl - start));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(json::parse(lines[0]).at("path"), "a\nb.jpg");
  EXPECT_EQ(json::parse(lines[1]).at("status"), "error");
  EXPECT_EQ(json::parse(lines[2]).at("path_hex"), "ff2e6a7067");
}

TEST(ReportWriter, CsvHeaderOnceThenRows) {
  const std::vector<hm::HashRecord> recs = {ok_record("a,1.jpg"), error_record("b.jpg", "read: x"),
                                            ok_record("c.jpg")};
  const std::string out = write_all(hm::ReportFormat::Csv, recs);
  const auto rows = parse_csv(out);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0][0], "path");
  EXPECT_EQ(rows[1][0], "a,1.jpg");
  EXPECT_EQ(rows[2][0], "b.jpg");
  EXPECT_EQ(rows[2][1], "error");
  EXPECT_EQ(rows[3][0], "c.jpg");
  for (const auto& row : rows) EXPECT_EQ(row.size(), rows[0].size());
}

TEST(ReportWriter, CsvWithNoRecordsStillHasItsHeader) {
  EXPECT_EQ(write_all(hm::ReportFormat::Csv, {}), hm::csv_header(hm::ReportFields{}) + "\n");
  EXPECT_EQ(write_all(hm::ReportFormat::Jsonl, {}), "");
}

TEST(ReportWriter, TextLines) {
  const std::string out =
      write_all(hm::ReportFormat::Text, {error_record("a", "read: x"), error_record("b", "read: y")});
  EXPECT_EQ(out, "error: read: x  a\nerror: read: y  b\n");
}

TEST(ReportWriter, WriteFailureThrows) {
  FILE* full = fopen("/dev/full", "w");
  if (!full) GTEST_SKIP() << "/dev/full not available";
  setvbuf(full, nullptr, _IONBF, 0);
  hm::ReportWriter w(full, hm::ReportFormat::Jsonl, hm::ReportFields{});
  EXPECT_THROW(w.write(ok_record("a.jpg")), std::runtime_error);
  fclose(full);
}

}  // namespace
