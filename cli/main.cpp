// hashmatch: batch perceptual-hash matching. Maps errors to exit statuses;
// the engine below never exits.
#include <stdio.h>

#include <exception>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "idle_blas_threads.hpp"

namespace {

const char kHelp[] = R"(Usage: hashmatch COMMAND [options]

Commands:
  hash     PDQ and exact digests (MD5, SHA-1, SHA-256) of image files
  scan     hash image files and match them against reference lists
  match    match hashes (hash/scan reports, hex lines) against reference lists
  index    build an index file from a reference list (index build), describe one (index info)
  info     the build, CPU features and CUDA devices
  merge    join the reports of hash/scan --shard runs, checking every shard is there

Run 'hashmatch COMMAND --help' for a command's options.
  -h, --help     this help
      --version  the version
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace hm::cli;
  stop_idle_blas_threads();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    fputs(kHelp, stderr);
    return kExitUsage;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "hash") return run_hash(args);
    if (command == "scan") return run_scan(args);
    if (command == "match") return run_match(args);
    if (command == "index") return run_index(args);
    if (command == "info") return run_info(args);
    if (command == "merge") return run_merge(args);
    if (command == "-h" || command == "--help" || command == "help") {
      fputs(kHelp, stdout);
      return kExitOk;
    }
    if (command == "--version" || command == "version") {
      printf("hashmatch %s\n", HM_VERSION);
      return kExitOk;
    }
    fprintf(stderr, "hashmatch: unknown command '%s'\n%s", command.c_str(), kHelp);
    return kExitUsage;
  } catch (const UsageError& e) {
    fprintf(stderr, "hashmatch %s: %s\nTry 'hashmatch %s --help'.\n", command.c_str(), e.what(),
            command.c_str());
    return kExitUsage;
  } catch (const std::exception& e) {
    fprintf(stderr, "hashmatch %s: fatal: %s\n", command.c_str(), e.what());
    return kExitUsage;
  }
}
