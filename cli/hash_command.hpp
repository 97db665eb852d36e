// The options and file pipeline shared by `hash` and `scan`.
#pragma once

#include <string>
#include <vector>

#include "args.hpp"
#include "backend.hpp"
#include "file_hasher.hpp"
#include "path_source.hpp"
#include "report_writer.hpp"
#include "shard.hpp"

namespace hm {
class Matcher;
}

namespace hm::cli {

struct HashCommand {
  HashOptions hash;
  ReportFields fields;
  ReportFormat format = ReportFormat::Jsonl;
  SourceOptions source;
  std::string output;
  std::string summary;  ///< --summary FILE: the run's counts as JSON; "" for none
  int threads = 0;
  int read_ahead = -1;  ///< --read-ahead: files hinted ahead of the workers; -1 = default
  BackendChoice backend = BackendChoice::Auto;  ///< PDQ hashing and index search
  ShardSpec shard;  ///< --shard: this run's share of the inputs (needs -o)
  bool resume = false;  ///< --resume: append what -o FILE (jsonl) lacks
  bool quiet = false;
  bool help = false;
  std::vector<std::string> operands;
};

/// The options of `hash`, which `scan` also takes.
extern const std::vector<OptionSpec> kHashOptions;
/// The help lines for kHashOptions.
extern const char kHashOptionsHelp[];

/// Applies one option of kHashOptions; false when `opt` is not one of them.
bool apply_hash_option(const ParsedOption& opt, HashCommand& cmd);
/// The options that change which files are read or what their records say,
/// as text (" algo=... recursive=... ..."), for the --resume and --shard
/// fingerprints. Threads and backend are left out: they change neither.
std::string record_settings(const HashCommand& cmd);

/// Checks the combination and fills defaults (threads); throws UsageError.
void finish_hash_command(HashCommand& cmd);

/// What the pipeline does after hashing, for `scan`.
struct MatchStage {
  const Matcher* matcher = nullptr;
  size_t batch = 256;          ///< records matched together
  bool fail_on_match = false;  ///< exit kExitMatches when anything matched
  std::string settings;        ///< the lists and match options, for --resume's fingerprint
};

/// Hashes every input in order, matches when `match.matcher` is set, writes
/// the report and a summary. Returns the exit status.
int run_hash_pipeline(const HashCommand& cmd, const MatchStage& match);

}  // namespace hm::cli
