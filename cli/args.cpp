#include "args.hpp"

#include <errno.h>
#include <stdlib.h>

namespace hm::cli {

namespace {

const OptionSpec* find_long(const std::vector<OptionSpec>& specs, const std::string& name) {
  for (const auto& s : specs)
    if (name == s.long_name) return &s;
  return nullptr;
}

const OptionSpec* find_short(const std::vector<OptionSpec>& specs, char c) {
  for (const auto& s : specs)
    if (s.short_name == c) return &s;
  return nullptr;
}

}  // namespace

ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs) {
  ParsedArgs parsed;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a == "-" || a.size() < 2 || a[0] != '-') {
      parsed.operands.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    if (a[1] == '-') {
      const size_t eq = a.find('=');
      const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const OptionSpec* spec = find_long(specs, name);
      if (!spec) throw UsageError("unknown option --" + name);
      ParsedOption opt{spec->long_name, ""};
      if (spec->takes_value) {
        if (eq != std::string::npos) {
          opt.value = a.substr(eq + 1);
        } else if (i + 1 < args.size()) {
          opt.value = args[++i];
        } else {
          throw UsageError("option --" + name + " needs a value");
        }
      } else if (eq != std::string::npos) {
        throw UsageError("option --" + name + " takes no value");
      }
      parsed.options.push_back(std::move(opt));
      continue;
    }
    for (size_t k = 1; k < a.size(); ++k) {
      const OptionSpec* spec = find_short(specs, a[k]);
      if (!spec) throw UsageError(std::string("unknown option -") + a[k]);
      ParsedOption opt{spec->long_name, ""};
      if (spec->takes_value) {
        if (k + 1 < a.size()) {
          opt.value = a.substr(k + 1);
        } else if (i + 1 < args.size()) {
          opt.value = args[++i];
        } else {
          throw UsageError(std::string("option -") + a[k] + " needs a value");
        }
        parsed.options.push_back(std::move(opt));
        break;
      }
      parsed.options.push_back(std::move(opt));
    }
  }
  return parsed;
}

unsigned long long parse_count(const std::string& option, const std::string& value) {
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = strtoull(value.c_str(), &end, 10);
  // strtoull skips leading blanks and accepts a sign ("-5" wraps round to a
  // huge value): only plain digits are a count.
  if (value.empty() || value[0] < '0' || value[0] > '9' || *end != '\0' || errno == ERANGE)
    throw UsageError("option --" + option + " needs a non-negative integer, not '" + value + "'");
  return v;
}

}  // namespace hm::cli
