// Reference-list and matching options shared by `match` and `scan`.
#pragma once

#include <string>
#include <vector>

#include "args.hpp"
#include "matcher.hpp"
#include "reflist.hpp"

namespace hm::cli {

/// A list named on the command line: --refs [NAME=]FILE or --index [NAME=]FILE.
struct ListSource {
  bool is_index = false;
  std::string name;
  std::string path;
};

struct ListOptions {
  std::vector<ListSource> sources;  ///< in command-line order
  RefListOptions reflist;           ///< how --refs files are read
  std::string type = "auto";        ///< index type for --refs lists
  MatchOptions match;
  size_t batch = 256;
  bool fail_on_match = false;
};

extern const std::vector<OptionSpec> kListOptions;
extern const char kListOptionsHelp[];

/// Applies one option of kListOptions; false when `opt` is not one of them.
bool apply_list_option(const ParsedOption& opt, ListOptions& lists);
/// The lists and every option that changes what matches, as one line (for
/// --resume's fingerprint: resuming with other lists is refused).
std::string describe_lists(const ListOptions& lists);

/// Loads every list (reading --refs files and building their indexes in
/// memory) for searching on `backend`, reporting each on stderr unless
/// quiet. Throws on unreadable lists.
std::vector<NamedIndex> load_lists(const ListOptions& lists, Backend backend, bool quiet);

}  // namespace hm::cli
