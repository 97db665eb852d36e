// A small command-line parser: --long[=value], --long value, -s value, -abc.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace hm::cli {

/// A usage error: the CLI prints it with a hint and exits with status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  const char* long_name;  ///< without the dashes
  char short_name;        ///< 0 when none
  bool takes_value;
};

struct ParsedOption {
  std::string name;  ///< the long name
  std::string value;
};

struct ParsedArgs {
  std::vector<ParsedOption> options;  ///< in command-line order
  std::vector<std::string> operands;  ///< everything else; "--" ends options; "-" is an operand
};

ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs);

/// Parses a non-negative integer option value, or throws UsageError naming the option.
unsigned long long parse_count(const std::string& option, const std::string& value);

}  // namespace hm::cli
