// --resume for `hash` and `scan`: a journal that fingerprints the run, the
// set of paths an interrupted report already holds, and appends of whole
// lines that a kill -9 cannot tear (README "Resuming a scan").
#pragma once

#include <stdint.h>

#include <chrono>
#include <string>
#include <unordered_set>
#include <vector>

#include "hash_record.hpp"
#include "report_writer.hpp"

namespace hm::cli {

struct HashCommand;

/// "<report>.journal".
std::string resume_journal_path(const std::string& report);

/// The JSONL report of a --resume run. Without --resume it is inactive and
/// only removes a journal left next to the report by an earlier run (that
/// journal no longer describes the report this run writes).
class ResumeRun {
 public:
  /// With --resume: refuses (std::runtime_error) a journal whose fingerprint
  /// differs from this run's, or a report without a journal; repairs a torn
  /// last line; loads the paths already reported; writes the journal; opens
  /// the report for appending (creating it when missing).
  /// `match_settings`: scan's lists and match options, part of the
  /// fingerprint (empty for hash).
  ResumeRun(const HashCommand& cmd, const std::string& match_settings);
  ~ResumeRun();
  ResumeRun(const ResumeRun&) = delete;
  ResumeRun& operator=(const ResumeRun&) = delete;

  bool active() const { return fd_ >= 0; }
  /// True when the report already holds a record for `path` (exact bytes).
  bool done(const std::string& path) const { return done_.count(path) != 0; }
  /// Records found in the report when the run started.
  uint64_t already_done() const { return done_.size(); }
  /// Appends the records as JSONL with one write(2), so that the report
  /// only ever ends inside a line when the process dies inside that call.
  /// fdatasync()s at most every kSyncInterval. Throws std::runtime_error.
  void append(const std::vector<HashRecord>& records, const ReportFields& fields);
  /// fdatasync()s and closes the report. Throws std::runtime_error.
  void finish();

  /// The longest a power loss may take back from the report.
  static constexpr std::chrono::seconds kSyncInterval{5};

 private:
  void load_report();

  std::string path_;
  int fd_ = -1;
  std::unordered_set<std::string> done_;  ///< exact path bytes; all in memory
  std::chrono::steady_clock::time_point last_sync_;
  std::string buffer_;
};

}  // namespace hm::cli
