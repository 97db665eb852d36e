// hashmatch index build|info: make an index file from a reference list, or describe one.
#include <stdio.h>
#include <sys/stat.h>

#include <chrono>

#include "commands.hpp"
#include "hash_index.hpp"
#include "index_file.hpp"
#include "list_options.hpp"

namespace hm::cli {

namespace {

const std::string kIndexHelp = std::string(R"(Usage: hashmatch index build --refs FILE [options] -o INDEX
       hashmatch index info INDEX...

build  reads a reference list and writes an index file holding the hashes,
       their ids and metadata, and the search structure, so that scans load
       it instead of re-reading the list.
info   prints what an index file holds (and checks it is whole).

Options of build:
      --refs FILE         the reference list (formats: see 'hashmatch scan --help')
  -o, --output INDEX      the index file to write (replaced atomically)
      --type SPEC         )") + kIndexTypesHelp + R"(
      --signal TYPE       pdq, md5, sha1, sha256 (default: from the list)
      --hash-column NAME  the hash column of a CSV/TSV list
      --id-column NAME    the id column of a CSV/TSV list
      --skip-bad-lines    skip and count bad lines (default: fail naming the line)
  -q, --quiet             no summary on standard error
Options of info:
      --format FMT        text (default) or json
)";

const std::vector<OptionSpec> kIndexOptions = {
    {"refs", 0, true},        {"output", 'o', true},     {"type", 0, true},
    {"signal", 0, true},      {"hash-column", 0, true},  {"id-column", 0, true},
    {"skip-bad-lines", 0, false}, {"format", 0, true},   {"quiet", 'q', false},
    {"help", 'h', false},
};

int run_build(const ParsedArgs& parsed) {
  ListOptions lists;
  std::string output, type = "auto";
  bool quiet = false;
  for (const auto& opt : parsed.options) {
    if (opt.name == "output") output = opt.value;
    else if (opt.name == "quiet") quiet = true;
    else if (opt.name == "type") type = opt.value;
    else if (opt.name == "format") throw UsageError("--format is an option of 'index info'");
    else apply_list_option(opt, lists);
  }
  if (!parsed.operands.empty()) throw UsageError("unexpected operand '" + parsed.operands[0] + "'");
  if (lists.sources.size() != 1 || lists.sources[0].is_index)
    throw UsageError("index build needs exactly one --refs FILE");
  if (output.empty()) throw UsageError("index build needs -o INDEX");
  IndexSpec spec;
  try {
    spec = IndexSpec::parse(type);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--type: ") + e.what());
  }
  const auto start = std::chrono::steady_clock::now();
  const std::string& path = lists.sources[0].path;
  RefList list = load_reflist(path, lists.reflist);
  const size_t skipped = list.skipped_lines;
  const std::vector<std::string> examples = list.skipped_examples;
  const HashIndex index = HashIndex::build(std::move(list), spec);
  index.save(output);
  if (!quiet) {
    if (skipped) {
      fprintf(stderr, "hashmatch: %s: skipped %zu bad lines, e.g.\n", path.c_str(), skipped);
      for (const auto& e : examples) fprintf(stderr, "  %s\n", e.c_str());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fprintf(stderr, "hashmatch: indexed %zu %s hashes from %s as %s (%s) in %.2f s: %s\n", index.size(),
            signal_name(index.signal()), path.c_str(), index.type().c_str(),
            index.exact() ? "exact" : "approximate", seconds, output.c_str());
  }
  return kExitOk;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if ((unsigned char)c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", (unsigned char)c);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

int run_info(const ParsedArgs& parsed) {
  bool json = false;
  for (const auto& opt : parsed.options) {
    if (opt.name == "format") {
      if (opt.value == "json") json = true;
      else if (opt.value != "text") throw UsageError("unknown --format '" + opt.value + "' (text, json)");
    } else if (opt.name != "quiet") {
      throw UsageError("--" + opt.name + " is an option of 'index build'");
    }
  }
  if (parsed.operands.empty()) throw UsageError("index info needs an INDEX file");
  int status = kExitOk;
  for (const std::string& path : parsed.operands) {
    try {
      const HashIndex index = HashIndex::load(path);
      struct stat st {};
      stat(path.c_str(), &st);
      std::string columns;
      for (const auto& c : index.metadata_columns()) columns += (columns.empty() ? "" : ", ") + c;
      if (json) {
        std::string cols;
        for (const auto& c : index.metadata_columns()) cols += (cols.empty() ? "\"" : ",\"") + json_escape(c) + "\"";
        printf("{\"path\":\"%s\",\"signal\":\"%s\",\"type\":\"%s\",\"exact\":%s,\"count\":%zu,"
               "\"threshold\":%d,\"source\":\"%s\",\"skipped_lines\":%zu,\"metadata_columns\":[%s],"
               "\"file_bytes\":%lld,\"memory_bytes\":%zu}\n",
               json_escape(path).c_str(), signal_name(index.signal()), index.type().c_str(),
               index.exact() ? "true" : "false", index.size(), index.default_threshold(),
               json_escape(index.source()).c_str(), index.skipped_lines(), cols.c_str(),
               (long long)st.st_size, index.index_memory_bytes());
      } else {
        printf("%s\n  signal:     %s\n  type:       %s (%s)\n  entries:    %zu\n  threshold:  %d (default)\n"
               "  source:     %s%s\n  metadata:   %s\n  file:       %lld bytes\n  in memory:  %zu bytes\n",
               path.c_str(), signal_name(index.signal()), index.type().c_str(),
               index.exact() ? "exact" : "approximate", index.size(), index.default_threshold(),
               index.source().c_str(),
               index.skipped_lines() ? (" (" + std::to_string(index.skipped_lines()) + " bad lines skipped)").c_str() : "",
               columns.empty() ? "(none)" : columns.c_str(), (long long)st.st_size, index.index_memory_bytes());
      }
    } catch (const IndexFileError& e) {
      fprintf(stderr, "hashmatch index info: %s\n", e.what());
      status = kExitSomeFailed;
    }
  }
  return status;
}

}  // namespace

int run_index(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    fputs(kIndexHelp.c_str(), args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string sub = args[0];
  const ParsedArgs parsed = parse_args(std::vector<std::string>(args.begin() + 1, args.end()), kIndexOptions);
  for (const auto& opt : parsed.options)
    if (opt.name == "help") {
      fputs(kIndexHelp.c_str(), stdout);
      return kExitOk;
    }
  if (sub == "build") return run_build(parsed);
  if (sub == "info") return run_info(parsed);
  throw UsageError("unknown index command '" + sub + "' (build, info)");
}

}  // namespace hm::cli
