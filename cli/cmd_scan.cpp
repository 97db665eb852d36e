// hashmatch scan: hash files and match them against reference lists in one pass.
#include <stdio.h>

#include "commands.hpp"
#include "hash_command.hpp"
#include "list_options.hpp"
#include "matcher.hpp"

namespace hm::cli {

namespace {

const std::string kScanHelp = R"(Usage: hashmatch scan [options] (--refs [NAME=]FILE | --index [NAME=]FILE)... PATH...

Hashes image files as 'hashmatch hash' does and matches every file against
the reference lists. Each record is the hash record plus "matches": one entry
per matching reference, {"list","signal","id","hash","distance","transform"}
(and "meta" with the list's extra columns), nearest first; [] when none.
PDQ matches are within the threshold; with --dihedral, of any of the file's
8 rotations and flips ("transform" says which). A PDQ hash with quality below
--min-quality is reported with "low_quality":true and not matched. Exact
digest lists (MD5, SHA-1, SHA-256) match by equality, also for files that
could not be decoded.

Files:
)" + std::string(kHashOptionsHelp) + "\n" + kListOptionsHelp + R"(
Exit status: 0 every file scanned; 1 some files have error records (all
records are still written); 2 usage or fatal error; 3 with --fail-on-match
when any file matched.
)";

}  // namespace

int run_scan(const std::vector<std::string>& args) {
  std::vector<OptionSpec> specs = kHashOptions;
  specs.insert(specs.end(), kListOptions.begin(), kListOptions.end());
  const ParsedArgs parsed = parse_args(args, specs);
  HashCommand cmd;
  ListOptions lists;
  for (const auto& opt : parsed.options)
    if (!apply_hash_option(opt, cmd)) apply_list_option(opt, lists);
  cmd.operands = parsed.operands;
  if (cmd.help) {
    fputs(kScanHelp.c_str(), stdout);
    return kExitOk;
  }
  finish_hash_command(cmd);
  lists.match.dihedral = cmd.hash.dihedral;
  const Matcher matcher(load_lists(lists, resolve_backend(cmd.backend), cmd.quiet), lists.match);
  return run_hash_pipeline(cmd, MatchStage{&matcher, lists.batch, lists.fail_on_match, describe_lists(lists)});
}

}  // namespace hm::cli
