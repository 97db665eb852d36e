// hashmatch match: match hashes already computed (hash or scan reports, or
// bare hex lines) against reference lists.
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "json.hpp"
#include "list_options.hpp"
#include "matcher.hpp"
#include "report_writer.hpp"

namespace hm::cli {

namespace {

const std::string kMatchHelp = R"(Usage: hashmatch match (--refs [NAME=]FILE | --index [NAME=]FILE)... [INPUT...|-]

Matches hashes against reference lists. Each INPUT (default: standard input)
holds either JSON lines, as written by 'hashmatch hash' or 'hashmatch scan'
(their "pdq", "quality", "pdq_dihedral", "md5", "sha1" and "sha256" fields
are used), or bare hex hashes, one per line, optionally followed by a label.
Writes one JSON line per input line: a JSON record comes back with every
field kept and "matches" set (see 'hashmatch scan --help'), a bare hash as
{"line","hash","label","matches"}. A line that cannot be read gives
{"line","status":"error","error"} and the run goes on.

Options:
  -o, --output FILE       write the report to FILE instead of standard output
      --dihedral          match the 8 dihedral hashes of records that have them
      --threads N         search threads (default: all cores)
      --backend B         auto (default: cuda when built with it and a GPU is
                          present), cpu or cuda: where exact PDQ lists are searched
  -q, --quiet             no summary on standard error
  -h, --help              this help
)" + std::string(kListOptionsHelp) + R"(
Exit status: 0 every line matched; 1 some lines could not be read; 2 usage
or fatal error; 3 with --fail-on-match when anything matched.
)";

const std::vector<OptionSpec> kMatchOnlyOptions = {
    {"output", 'o', true}, {"dihedral", 0, false}, {"threads", 0, true},
    {"quiet", 'q', false}, {"help", 'h', false}, {"backend", 0, true},
};

bool read_hash(const nlohmann::ordered_json& record, const char* key, pdq::Hash256& out) {
  const auto it = record.find(key);
  return it != record.end() && it->is_string() && parse_hex_code(it->get<std::string>(), 32, out.data());
}

std::string digest_field(const nlohmann::ordered_json& record, const char* key, int bytes) {
  const auto it = record.find(key);
  if (it == record.end() || !it->is_string()) return {};
  const std::string hex = it->get<std::string>();
  uint8_t code[32];
  return parse_hex_code(hex, bytes, code) ? hex_of_code(code, bytes) : std::string();
}

// One input line, parsed: what to match and how to write it back.
struct InputLine {
  size_t line = 0;
  std::string error;                      ///< the line could not be read
  std::optional<nlohmann::ordered_json> record;  ///< a JSON record, written back with matches
  std::string hash, label;                ///< a bare hash line
  MatchQuery query;
};

InputLine parse_line(const std::string& text, size_t line) {
  InputLine in;
  in.line = line;
  if (text[0] == '{') {
    try {
      in.record = nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::exception&) {
      in.error = "input: line " + std::to_string(line) + " is not valid JSON";
      return in;
    }
    auto& r = *in.record;
    if (!r.is_object()) {
      in.error = "input: line " + std::to_string(line) + " is not a JSON object";
      in.record.reset();
      return in;
    }
    r.erase("matches");
    r.erase("low_quality");
    MatchQuery& q = in.query;
    q.has_pdq = read_hash(r, "pdq", q.pdq);
    if (q.has_pdq && r.contains("quality") && r["quality"].is_number_integer()) q.quality = r["quality"].get<int>();
    const auto d = r.find("pdq_dihedral");
    if (d != r.end() && d->is_array() && d->size() == pdq::kDihedralCount) {
      q.has_dihedral = true;
      for (int t = 0; t < pdq::kDihedralCount; ++t)
        q.has_dihedral = q.has_dihedral && (*d)[t].is_string() &&
                         parse_hex_code((*d)[t].get<std::string>(), 32, q.dihedral[t].data());
    }
    q.md5 = digest_field(r, "md5", 16);
    q.sha1 = digest_field(r, "sha1", 20);
    q.sha256 = digest_field(r, "sha256", 32);
    return in;
  }
  const size_t end = text.find_first_of(" \t,");
  in.hash = text.substr(0, end);
  if (end != std::string::npos) {
    const size_t from = text.find_first_not_of(" \t,", end);
    if (from != std::string::npos) in.label = text.substr(from);
  }
  uint8_t code[32];
  MatchQuery& q = in.query;
  // A bare hash is matched against every list of its length's signal.
  if (in.hash.size() == 64 && parse_hex_code(in.hash, 32, code)) {
    q.has_pdq = true;
    memcpy(q.pdq.data(), code, 32);
    q.sha256 = hex_of_code(code, 32);
  } else if (in.hash.size() == 40 && parse_hex_code(in.hash, 20, code)) {
    q.sha1 = hex_of_code(code, 20);
  } else if (in.hash.size() == 32 && parse_hex_code(in.hash, 16, code)) {
    q.md5 = hex_of_code(code, 16);
  } else {
    in.error = "input: line " + std::to_string(line) + " is neither a JSON record nor a hex hash";
  }
  return in;
}

std::string output_line(const InputLine& in, const MatchOutcome& outcome) {
  std::string out;
  if (!in.error.empty()) {
    out = "{\"line\":" + std::to_string(in.line) + ",\"status\":\"error\",\"error\":";
    append_json_string(out, in.error);
    return out + "}";
  }
  if (in.record) {
    out = in.record->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out.pop_back();  // the closing brace: matches go last
    if (out.size() > 1) out.push_back(',');
    if (outcome.low_quality) out += "\"low_quality\":true,";
  } else {
    out = "{\"line\":" + std::to_string(in.line) + ",\"hash\":";
    append_json_string(out, in.hash);
    if (!in.label.empty()) {
      out += ",\"label\":";
      append_json_string(out, in.label);
    }
    out.push_back(',');
  }
  append_matches_json(out, outcome.matches);
  return out + "}";
}

}  // namespace

int run_match(const std::vector<std::string>& args) {
  std::vector<OptionSpec> specs = kMatchOnlyOptions;
  specs.insert(specs.end(), kListOptions.begin(), kListOptions.end());
  const ParsedArgs parsed = parse_args(args, specs);
  ListOptions lists;
  std::string output;
  int threads = 0;
  bool quiet = false;
  BackendChoice backend = BackendChoice::Auto;
  for (const auto& opt : parsed.options) {
    if (opt.name == "help") {
      fputs(kMatchHelp.c_str(), stdout);
      return kExitOk;
    } else if (opt.name == "output") output = opt.value;
    else if (opt.name == "dihedral") lists.match.dihedral = true;
    else if (opt.name == "quiet") quiet = true;
    else if (opt.name == "backend") {
      try {
        backend = parse_backend_choice(opt.value);
      } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
      }
    }
    else if (opt.name == "threads") {
      const auto t = parse_count(opt.name, opt.value);
      if (t < 1 || t > 1024) throw UsageError("--threads must be between 1 and 1024");
      threads = (int)t;
    } else apply_list_option(opt, lists);
  }
  if (threads) omp_set_num_threads(threads);
  const Matcher matcher(load_lists(lists, resolve_backend(backend), quiet), lists.match);

  std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, fclose);
  if (!output.empty()) {
    file.reset(fopen(output.c_str(), "w"));
    if (!file) throw std::runtime_error("cannot open " + output + " for writing: " + strerror(errno));
  }
  FILE* out = file ? file.get() : stdout;
  std::vector<std::string> inputs = parsed.operands;
  if (inputs.empty()) inputs.push_back("-");
  std::ios::sync_with_stdio(false);  // stdin is read line by line: no C stdio sync

  size_t lines = 0, unreadable = 0, matched = 0, dihedral_missing = 0;
  std::vector<InputLine> batch;
  auto flush_batch = [&] {
    std::vector<MatchQuery> queries;
    for (const auto& in : batch) queries.push_back(in.query);
    const std::vector<MatchOutcome> outcomes = matcher.match(queries);
    for (size_t i = 0; i < batch.size(); ++i) {
      const std::string line = output_line(batch[i], outcomes[i]) + "\n";
      if (fwrite(line.data(), 1, line.size(), out) != line.size())
        throw std::runtime_error(std::string("cannot write the report: ") + strerror(errno));
      if (!outcomes[i].matches.empty()) ++matched;
    }
    batch.clear();
  };
  for (const std::string& input : inputs) {
    std::ifstream stream;
    if (input != "-") {
      stream.open(input);
      if (!stream) throw std::runtime_error("cannot read " + input + ": " + strerror(errno));
    }
    std::istream& in = input == "-" ? std::cin : stream;
    std::string text;
    size_t line = 0;
    while (std::getline(in, text)) {
      ++line;
      if (!text.empty() && text.back() == '\r') text.pop_back();
      if (text.find_first_not_of(" \t") == std::string::npos) continue;
      batch.push_back(parse_line(text, line));
      ++lines;
      if (!batch.back().error.empty()) ++unreadable;
      if (lists.match.dihedral && batch.back().query.has_pdq && !batch.back().query.has_dihedral)
        ++dihedral_missing;
      if (batch.size() >= lists.batch) flush_batch();
    }
    if (in.bad()) throw std::runtime_error("cannot read " + input + ": " + strerror(errno));
  }
  flush_batch();
  if (fflush(out) != 0 || (file && fclose(file.release()) != 0))
    throw std::runtime_error("cannot write " + (output.empty() ? std::string("the report") : output) + ": " +
                             strerror(errno));
  if (!quiet) {
    if (dihedral_missing)
      fprintf(stderr,
              "hashmatch: warning: %zu records have no pdq_dihedral (hash them with --dihedral); "
              "only their plain hash was matched\n",
              dihedral_missing);
    fprintf(stderr, "hashmatch: %zu lines, %zu matched, %zu unreadable\n", lines, matched, unreadable);
  }
  if (lists.fail_on_match && matched) return kExitMatches;
  return unreadable ? kExitSomeFailed : kExitOk;
}

}  // namespace hm::cli
