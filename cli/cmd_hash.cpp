// hashmatch hash: PDQ and exact digests of image files, one record per file.
#include <stdio.h>

#include "commands.hpp"
#include "hash_command.hpp"

namespace hm::cli {

namespace {

const std::string kHashHelp = R"(Usage: hashmatch hash [options] PATH...

Computes the PDQ perceptual hash (bit-identical to Meta's reference) and the
MD5, SHA-1 and SHA-256 digests of image files. Writes one record per input
file, in input order. PATH may be a file, a directory (with -r), or - to read
paths from standard input, one per line (NUL-separated with -0).

Options:
)" + std::string(kHashOptionsHelp) + R"(
Exit status: 0 every file hashed; 1 some files have error records (all
records are still written); 2 usage or fatal error.
Formats: JPEG, PNG, WebP, GIF (first frame), BMP, recognised by content.
)";

}  // namespace

int run_hash(const std::vector<std::string>& args) {
  HashCommand cmd;
  const ParsedArgs parsed = parse_args(args, kHashOptions);
  for (const auto& opt : parsed.options) apply_hash_option(opt, cmd);
  cmd.operands = parsed.operands;
  finish_hash_command(cmd);
  if (cmd.help) {
    fputs(kHashHelp.c_str(), stdout);
    return kExitOk;
  }
  return run_hash_pipeline(cmd, MatchStage{});
}

}  // namespace hm::cli
