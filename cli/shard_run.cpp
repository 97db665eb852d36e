#include "shard_run.hpp"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

#include "hash_command.hpp"

namespace hm::cli {

namespace {

/// What the shards of one scan must share besides their operands: whatever
/// changes which inputs there are or what their records say, a scan's lists
/// and match options included. Threads and backend are left out: they
/// change neither.
std::string settings_of(const HashCommand& cmd, const std::string& match_settings) {
  std::string s = match_settings.empty() ? "hash" : "scan " + match_settings;
  s += " shards=" + std::to_string(cmd.shard.count);
  s += std::string(" format=") + (cmd.format == ReportFormat::Csv ? "csv" : "jsonl");
  s += record_settings(cmd);
  return s;
}

}  // namespace

ShardSpec parse_shard_option(const std::string& value) {
  try {
    return parse_shard(value, [](const char* name) { return static_cast<const char*>(getenv(name)); });
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

ShardRun::ShardRun(const HashCommand& cmd, std::string match_settings)
    : cmd_(cmd), match_settings_(std::move(match_settings)) {
  if (!cmd_.shard.enabled()) return;
  const std::string manifest = shard_manifest_path(cmd_.output);
  if (unlink(manifest.c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error("cannot remove the old " + manifest + ": " + strerror(errno));
}

bool ShardRun::next(PathSource& source, SourceItem& item) {
  while (source.next(item)) {
    if (!cmd_.shard.enabled()) return true;
    if (shard_of(item.path, cmd_.shard.count) == cmd_.shard.index) {
      ++records_;  // one record per item, errors included
      return true;
    }
  }
  return false;
}

void ShardRun::finish() {
  if (!cmd_.shard.enabled()) return;
  struct stat st;
  if (stat(cmd_.output.c_str(), &st) != 0)
    throw std::runtime_error("cannot stat " + cmd_.output + ": " + strerror(errno));
  ShardManifest m;
  m.shard = cmd_.shard.index;
  m.shards = cmd_.shard.count;
  m.records = records_;
  m.report_bytes = (uint64_t)st.st_size;
  m.format = cmd_.format == ReportFormat::Csv ? "csv" : "jsonl";
  m.settings = settings_of(cmd_, match_settings_);
  m.operands = cmd_.operands;
  m.run_key = run_key(m.operands, m.settings);
  m.version = HM_VERSION;
  write_shard_manifest(shard_manifest_path(cmd_.output), m);
}

}  // namespace hm::cli
