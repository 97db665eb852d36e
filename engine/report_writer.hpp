// Writes hash records as JSONL, CSV or text.
#pragma once

#include <stdio.h>

#include <string>

#include "hash_record.hpp"

namespace hm {

enum class ReportFormat { Jsonl, Csv, Text };

/// Which optional fields the report carries (what was asked for).
struct ReportFields {
  bool pdq = true;
  bool dihedral = false;
  bool md5 = true;
  bool sha1 = true;
  bool sha256 = true;
  bool matches = false;  ///< scan reports: matches (and low_quality)
  bool decode_fast = false;  ///< --decode fast: records say "decode":"fast" (their PDQ is approximate)
};

/// Appends `"matches":[...]` (key included, no leading comma) for a record's matches.
void append_matches_json(std::string& out, const std::vector<Match>& matches);
/// Compact one-field form for CSV and text: "list:id:distance:transform" joined by "; ".
std::string matches_summary(const std::vector<Match>& matches);

/// One JSON object, no trailing newline. Contract (README "Report format"):
/// path, status, then error or the hashes; path_hex when path is not UTF-8.
std::string record_to_json(const HashRecord& record, const ReportFields& fields);
/// The CSV header line and one CSV row (no trailing newline).
std::string csv_header(const ReportFields& fields);
std::string record_to_csv(const HashRecord& record, const ReportFields& fields);
/// One human-readable line: hashes then two spaces and the path.
std::string record_to_text(const HashRecord& record, const ReportFields& fields);

/// Streams records to a FILE*, header first for CSV. Throws
/// std::runtime_error when the output cannot be written.
class ReportWriter {
 public:
  ReportWriter(FILE* out, ReportFormat format, ReportFields fields);
  void write(const HashRecord& record);
  /// Flushes; a CSV report with no records still gets its header line.
  void flush();

 private:
  void put(const std::string& line);

  FILE* out_;
  ReportFormat format_;
  ReportFields fields_;
  bool header_written_ = false;
};

}  // namespace hm
