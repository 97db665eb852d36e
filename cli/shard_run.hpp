// --shard for `hash` and `scan`: filters the inputs to this run's share and,
// once the report is closed, writes the manifest that marks it complete.
#pragma once

#include <stdint.h>

#include <string>

#include "path_source.hpp"
#include "shard.hpp"

namespace hm::cli {

struct HashCommand;

/// Parses the value of --shard (I/N or auto/N, the index then from
/// SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX); throws UsageError.
ShardSpec parse_shard_option(const std::string& value);

/// One run of the hash pipeline with or without --shard. Without it, next()
/// passes every item through and finish() does nothing.
class ShardRun {
 public:
  /// Removes a manifest left by an earlier run of the same report first, so
  /// that a run cut short leaves none. `match_settings`: a scan's lists and
  /// match options (MatchStage::settings), which the shards must agree on;
  /// empty for hash.
  ShardRun(const HashCommand& cmd, std::string match_settings);
  /// The next item of this shard from `source`; false when none is left.
  /// Every path is walked in every shard; only the items are filtered.
  bool next(PathSource& source, SourceItem& item);
  /// Writes `<report>.shard.json` for a report now closed with every record.
  void finish();

 private:
  const HashCommand& cmd_;
  std::string match_settings_;
  uint64_t records_ = 0;
};

}  // namespace hm::cli
