// Shards: a deterministic share of the inputs by a hash of the path, and the
// manifest that says a shard's report is complete (docs/scale-out.md).
#pragma once

#include <stdint.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hm {

/// One run's share of the inputs: the files whose path hashes to `index`
/// modulo `count`. count == 0 means no sharding (every file).
struct ShardSpec {
  uint32_t index = 0;
  uint32_t count = 0;
  bool enabled() const { return count > 0; }
};

/// The most shards one run may be split into.
constexpr uint32_t kMaxShards = 1u << 20;

/// FNV-1a, 64 bits, of the bytes: offset basis 0xcbf29ce484222325, prime
/// 0x100000001b3. Platform-independent (bytes, not chars or locale).
uint64_t fnv1a64(std::string_view bytes);

/// The shard (0..count-1) of a path: fmix64(fnv1a64(path bytes)) % count.
/// fmix64 (MurmurHash3's finaliser) spreads FNV's weak low bits, whose
/// lowest bit is only the parity of the bytes' lowest bits. count >= 1.
uint32_t shard_of(std::string_view path, uint32_t count);

/// Where --shard auto/N takes the index from, in this order.
extern const char* const kShardIndexVariables[2];  // SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX

/// Parses "I/N" (0 <= I < N <= kMaxShards) or "auto/N", whose index comes
/// from the first of kShardIndexVariables that `get_env` finds set. Throws
/// std::invalid_argument with a message for the user.
ShardSpec parse_shard(std::string_view text,
                      const std::function<const char*(const char*)>& get_env);

/// What one completed shard run says about its report, stored as JSON next
/// to it in `<report>.shard.json` (shard_manifest_path).
struct ShardManifest {
  uint32_t shard = 0;
  uint32_t shards = 0;
  uint64_t records = 0;       ///< records in the report (CSV: rows after the header)
  uint64_t report_bytes = 0;  ///< the report's size when the run finished
  std::string format;         ///< "jsonl" or "csv"
  std::string run_key;        ///< 16 hex digits: run_key() of the operands and settings
  std::string settings;       ///< the settings run_key() covered, readable
  std::vector<std::string> operands;  ///< as given (stored with U+FFFD for invalid UTF-8)
  std::string version;        ///< hashmatch's version
};

/// "<report>.shard.json".
std::string shard_manifest_path(const std::string& report);

/// A fingerprint of everything shards of one scan must share: operands
/// (bytes, length-prefixed, in order) and the settings string. 16 hex digits.
std::string run_key(const std::vector<std::string>& operands, const std::string& settings);

/// Writes the manifest atomically (a temporary file renamed over `path`), so
/// that a reader sees a whole manifest or none. Throws std::runtime_error.
void write_shard_manifest(const std::string& path, const ShardManifest& manifest);

/// Reads a manifest; throws std::runtime_error saying what is wrong with it
/// (missing, unreadable, not JSON, a field missing, "complete" not true).
ShardManifest read_shard_manifest(const std::string& path);

/// Counts a report's records as its bytes stream by: JSONL, one per line;
/// CSV, rows after the header, where quoted fields may span lines.
class ReportRecordCounter {
 public:
  explicit ReportRecordCounter(bool csv) : csv_(csv) {}
  /// The next bytes of the report, in order.
  void feed(std::string_view chunk);
  /// Whole records so far (CSV: not counting the header row).
  uint64_t records() const;
  /// False when the last record lacks its newline (a cut file) or a CSV
  /// quote is still open.
  bool ends_cleanly() const { return !in_quotes_ && last_ == '\n'; }

 private:
  bool csv_;
  bool in_quotes_ = false;
  uint64_t lines_ = 0;
  char last_ = '\n';  // an empty report ends cleanly
};

}  // namespace hm
