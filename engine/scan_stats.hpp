// A run's counts (files, errors by kind, matches, bytes) for the end-of-run
// summary: one line for people, one JSON object for machines.
#pragma once

#include <stdint.h>

#include <map>
#include <string>
#include <string_view>

#include "hash_record.hpp"

namespace hm {

/// Counts over the records of one `hash` or `scan` run, fed in report order.
/// The JSON form (to_json) is a stable interface: fields are only ever added.
struct ScanStats {
  std::string command;  ///< "hash" or "scan"
  std::string backend;  ///< backend_name() of the run: "cpu" or "cuda"
  bool matching = false;  ///< matching ran (scan): the human line shows "matched"
  uint64_t files = 0;     ///< records, ok or not
  uint64_t ok = 0;        ///< records without an error
  uint64_t errors = 0;    ///< records with an error
  /// Error records by kind: the stage before the first ": " of the error
  /// ("read", "decode", "limit", "unsupported"), "other" when there is none.
  std::map<std::string, uint64_t> errors_by_kind;
  uint64_t matched = 0;  ///< records with at least one match (0 for hash)
  uint64_t matches = 0;  ///< match entries over all records (0 for hash)
  uint64_t bytes = 0;    ///< file bytes read, over the records that were read
  double seconds = 0;    ///< wall time of the run, set by the caller

  /// Counts one record, after matching (its `matches` are final).
  void add(const HashRecord& record);
  /// files / seconds; 0 when no time has passed.
  double files_per_second() const;
  /// bytes / 1e6 / seconds (decimal megabytes); 0 when no time has passed.
  double mb_per_second() const;

  /// One JSON object, keys in this order: "files", "ok", "errors",
  /// "errors_by_kind" (kind -> count, sorted by kind), "matched", "matches",
  /// "bytes", "seconds", "files_per_second", "mb_per_second", "backend",
  /// "command". Indented, ends with a newline.
  std::string to_json() const;
  /// "7 files, 5 ok, 2 errors (decode 1, read 1)[, 3 matched] in 1.25 s
  /// (5.6 files/s, 0.4 MB/s)": no prefix, no newline.
  std::string summary_line() const;
};

/// The kind of an error "<stage>: <reason>": the stage when it is a plain
/// lower-case word, else "other".
std::string error_kind(std::string_view error);

/// Writes `text` to `path` so that readers see the old file or the whole new
/// one, never a part: a temporary file beside it, flushed to disk, then
/// renamed over it. Throws std::runtime_error (naming the path) on failure,
/// leaving no temporary file behind.
void write_file_atomically(const std::string& path, std::string_view text);

/// Throws std::runtime_error when `path` could not be created later: its
/// directory is missing or not writable, or `path` is a directory. Lets a
/// long run fail at its start rather than at its end.
void check_can_create(const std::string& path);

}  // namespace hm
