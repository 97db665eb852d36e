// The hashmatch subcommands. Each returns the process exit status.
#pragma once

#include <string>
#include <vector>

namespace hm::cli {

/// Exit statuses shared by every command.
constexpr int kExitOk = 0;         ///< every input processed
constexpr int kExitSomeFailed = 1; ///< finished, some inputs have error records
constexpr int kExitUsage = 2;      ///< bad arguments or a fatal error; nothing reliable written
constexpr int kExitMatches = 3;    ///< with --fail-on-match: something matched

int run_hash(const std::vector<std::string>& args);
int run_index(const std::vector<std::string>& args);
int run_match(const std::vector<std::string>& args);
int run_scan(const std::vector<std::string>& args);
int run_info(const std::vector<std::string>& args);
int run_merge(const std::vector<std::string>& args);

}  // namespace hm::cli
