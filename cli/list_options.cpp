#include "list_options.hpp"

#include <stdio.h>
#include <sys/stat.h>

#include <chrono>
#include <set>

namespace hm::cli {

const std::vector<OptionSpec> kListOptions = {
    {"refs", 0, true},         {"index", 0, true},        {"signal", 0, true},
    {"hash-column", 0, true},  {"id-column", 0, true},    {"skip-bad-lines", 0, false},
    {"type", 0, true},         {"threshold", 0, true},    {"top-k", 0, true},
    {"min-quality", 0, true},  {"fail-on-match", 0, false}, {"batch", 0, true},
};

const char kListOptionsHelp[] = R"(Reference lists (at least one; each may be named NAME=, default its file name):
      --refs [NAME=]FILE  a reference list: hex lines (hash [id]), CSV/TSV with a
                          header (pdq/hash/signal and id columns), or
                          python-threatexchange "<signal> <hash>" lines
      --index [NAME=]FILE an index file made by 'hashmatch index build'
      --signal TYPE       signal of --refs lists: pdq, md5, sha1, sha256 (default:
                          from the header or the hash length; 64 hex digits is pdq)
      --hash-column NAME  the hash column of CSV/TSV --refs lists
      --id-column NAME    the id column of CSV/TSV --refs lists
      --skip-bad-lines    skip and count bad lines in --refs lists (default: fail)
      --type SPEC         index for --refs lists (default auto): flat, mih, hnsw, ivf
Matching:
      --threshold N       match within N bits, inclusive (default 31 for PDQ;
                          digest lists always match exactly)
      --top-k K           only the K nearest matches per file and list
      --min-quality Q     PDQ hashes below quality Q are reported, not matched
                          (default 50)
      --fail-on-match     exit with status 3 when anything matched
      --batch N           files matched together (default 256) where searches
                          run in batches (GPU, hnsw, ivf, and the match
                          command); scan searches flat, mih and digest lists
                          file by file on its worker threads
)";

namespace {

bool is_file(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string default_name(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  const size_t dot = base.find_last_of('.');
  if (dot != std::string::npos && dot > 0) base.resize(dot);
  return base.empty() ? path : base;
}

// "NAME=FILE" names a list, unless the whole text is an existing file.
ListSource list_source(const std::string& value, bool is_index) {
  ListSource s;
  s.is_index = is_index;
  const size_t eq = value.find('=');
  if (eq != std::string::npos && eq > 0 && !is_file(value)) {
    s.name = value.substr(0, eq);
    s.path = value.substr(eq + 1);
  } else {
    s.path = value;
    s.name = default_name(value);
  }
  if (s.path.empty()) throw UsageError("--" + std::string(is_index ? "index" : "refs") + " needs a file");
  return s;
}

}  // namespace

bool apply_list_option(const ParsedOption& opt, ListOptions& lists) {
  const std::string& n = opt.name;
  if (n == "refs" || n == "index") {
    lists.sources.push_back(list_source(opt.value, n == "index"));
  } else if (n == "signal") {
    const auto signal = parse_signal_name(opt.value);
    if (!signal) throw UsageError("unknown --signal '" + opt.value + "' (pdq, md5, sha1, sha256)");
    lists.reflist.signal = *signal;
  } else if (n == "hash-column") {
    lists.reflist.hash_column = opt.value;
  } else if (n == "id-column") {
    lists.reflist.id_column = opt.value;
  } else if (n == "skip-bad-lines") {
    lists.reflist.skip_bad_lines = true;
  } else if (n == "type") {
    try {
      IndexSpec::parse(opt.value);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--type: ") + e.what());
    }
    lists.type = opt.value;
  } else if (n == "threshold") {
    const auto t = parse_count(n, opt.value);
    if (t > 256) throw UsageError("--threshold must be between 0 and 256");
    lists.match.threshold = (int)t;
  } else if (n == "top-k") {
    const auto k = parse_count(n, opt.value);
    if (k < 1) throw UsageError("--top-k must be at least 1");
    lists.match.top_k = (size_t)k;
  } else if (n == "min-quality") {
    const auto q = parse_count(n, opt.value);
    if (q > 100) throw UsageError("--min-quality must be between 0 and 100");
    lists.match.min_quality = (int)q;
  } else if (n == "fail-on-match") {
    lists.fail_on_match = true;
  } else if (n == "batch") {
    const auto b = parse_count(n, opt.value);
    if (b < 1 || b > (1u << 20)) throw UsageError("--batch must be between 1 and 1048576");
    lists.batch = (size_t)b;
  } else {
    return false;
  }
  return true;
}

std::string describe_lists(const ListOptions& lists) {
  std::string s = "lists=";
  for (const ListSource& l : lists.sources)
    s += (l.is_index ? "index:" : "refs:") + l.name + "=" + l.path + ";";
  const RefListOptions& r = lists.reflist;
  s += " signal=" + std::string(r.signal ? signal_name(*r.signal) : "auto");
  s += " hash-column=" + r.hash_column + " id-column=" + r.id_column;
  s += std::string(" skip-bad-lines=") + (r.skip_bad_lines ? "1" : "0");
  s += " type=" + lists.type;
  s += " threshold=" + (lists.match.threshold ? std::to_string(*lists.match.threshold) : std::string("default"));
  s += " top-k=" + std::to_string(lists.match.top_k);
  s += " min-quality=" + std::to_string(lists.match.min_quality);
  return s;
}

std::vector<NamedIndex> load_lists(const ListOptions& lists, Backend backend, bool quiet) {
  if (lists.sources.empty()) throw UsageError("no reference lists (give --refs FILE or --index FILE)");
  std::set<std::string> names;
  for (const auto& s : lists.sources)
    if (!names.insert(s.name).second)
      throw UsageError("two lists are named '" + s.name + "': name them with NAME=FILE");

  std::vector<NamedIndex> out;
  for (const ListSource& s : lists.sources) {
    const auto start = std::chrono::steady_clock::now();
    auto index = std::make_shared<HashIndex>();
    if (s.is_index) {
      *index = HashIndex::load(s.path);
    } else {
      RefList list = load_reflist(s.path, lists.reflist);
      if (!quiet && list.skipped_lines) {
        fprintf(stderr, "hashmatch: %s: skipped %zu bad lines, e.g.\n", s.path.c_str(), list.skipped_lines);
        for (const auto& example : list.skipped_examples) fprintf(stderr, "  %s\n", example.c_str());
      }
      *index = HashIndex::build(std::move(list), IndexSpec::parse(lists.type));
    }
    index->use_backend(backend);
    if (!quiet) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fprintf(stderr, "hashmatch: list %s: %zu %s hashes from %s (index %s%s, %.2f s)\n", s.name.c_str(),
              index->size(), signal_name(index->signal()), s.path.c_str(), index->type().c_str(),
              index->exact() ? "" : ", approximate", seconds);
    }
    out.push_back(NamedIndex{s.name, std::move(index)});
  }
  return out;
}

}  // namespace hm::cli
