// hashmatch merge: joins the reports of `hash/scan --shard I/N` into one and
// says which shards are missing, incomplete or from another run.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <stdexcept>

#include "args.hpp"
#include "commands.hpp"
#include "shard.hpp"

namespace hm::cli {

namespace {

const char kMergeHelp[] = R"(Usage: hashmatch merge [options] REPORT...

Joins the reports of 'hashmatch hash|scan --shard I/N -o REPORT' runs into one
report, shard 0 first, each shard's records in its input order (a CSV report
keeps one header). Each REPORT must have the manifest REPORT.shard.json that
a shard writes when it completes; a manifest may be given in place of its
report. Checks that shards 0..N-1 are each there once, complete, from the same
run (same N, operands and settings), and that every report still holds the
records and bytes its manifest counted.

Options:
  -o, --output FILE  write the merged report to FILE (it appears whole, or not
                     at all) instead of standard output
      --partial      write the shards that check out even when others are
                     missing or incomplete (the exit status is still 1)
  -q, --quiet        no summary on standard error
  -h, --help         this help

Exit status: 0 every shard present, complete and consistent; 1 some shard is
missing, incomplete or inconsistent: each is named on standard error and
nothing is written unless --partial; 2 usage or fatal error.
)";

const std::vector<OptionSpec> kMergeOptions = {
    {"output", 'o', true}, {"partial", 0, false}, {"quiet", 'q', false}, {"help", 'h', false}};

constexpr size_t kChunkBytes = 1 << 20;

struct FileCloser {
  void operator()(FILE* f) const { fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

/// A report given to merge, its manifest once read, and what is wrong with it.
struct Shard {
  std::string report;
  ShardManifest manifest;
  std::string problem;  ///< empty while it checks out
};

/// Streams a report through `each(chunk)`; returns its size. Throws when unreadable.
template <typename Each>
uint64_t stream_report(const std::string& path, Each each) {
  File f(fopen(path.c_str(), "rb"));
  if (!f) throw std::runtime_error("cannot open " + path + ": " + strerror(errno));
  std::unique_ptr<char[]> buffer(new char[kChunkBytes]);
  uint64_t total = 0;
  size_t n;
  while ((n = fread(buffer.get(), 1, kChunkBytes, f.get())) > 0) {
    each(std::string_view(buffer.get(), n));
    total += n;
  }
  if (ferror(f.get())) throw std::runtime_error("cannot read " + path + ": " + strerror(errno));
  return total;
}

/// Reads the manifest and checks the report against it; sets shard.problem.
void check_shard(Shard& shard) {
  try {
    shard.manifest = read_shard_manifest(shard_manifest_path(shard.report));
  } catch (const std::exception& e) {
    shard.problem = std::string("incomplete: ") + e.what();
    return;
  }
  const ShardManifest& m = shard.manifest;
  ReportRecordCounter counter(m.format == "csv");
  uint64_t bytes = 0;
  try {
    bytes = stream_report(shard.report, [&](std::string_view chunk) { counter.feed(chunk); });
  } catch (const std::exception& e) {
    shard.problem = e.what();
    return;
  }
  if (bytes != m.report_bytes || counter.records() != m.records || !counter.ends_cleanly())
    shard.problem = "changed since its run: " + std::to_string(counter.records()) + " records, " +
                    std::to_string(bytes) + " bytes" + (counter.ends_cleanly() ? "" : " (cut short)") +
                    "; the manifest says " + std::to_string(m.records) + " records, " +
                    std::to_string(m.report_bytes) + " bytes";
}

/// Writes the reports of `shards` (in order) to `out`; CSV headers after the
/// first are skipped. Returns the records written.
uint64_t write_merged(const std::vector<const Shard*>& shards, FILE* out, const std::string& out_name) {
  uint64_t records = 0;
  bool header_written = false;
  for (const Shard* shard : shards) {
    const bool csv = shard->manifest.format == "csv";
    bool skipping_header = csv && header_written;
    ReportRecordCounter counter(csv);
    const uint64_t bytes = stream_report(shard->report, [&](std::string_view chunk) {
      counter.feed(chunk);
      if (skipping_header) {
        const size_t nl = chunk.find('\n');
        if (nl == std::string_view::npos) return;
        chunk.remove_prefix(nl + 1);
        skipping_header = false;
      }
      if (fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size())
        throw std::runtime_error("cannot write " + out_name + ": " + strerror(errno));
    });
    // Checked before, so a difference now means the report changed under us.
    if (bytes != shard->manifest.report_bytes || counter.records() != shard->manifest.records)
      throw std::runtime_error(shard->report + " changed while it was merged");
    header_written = header_written || csv;
    records += counter.records();
  }
  return records;
}

/// The shard count and run key most manifests agree on (ties: the first given).
std::pair<uint32_t, std::string> majority_run(const std::vector<Shard>& shards) {
  std::map<std::pair<uint32_t, std::string>, size_t> votes;
  std::pair<uint32_t, std::string> best{0, ""};
  size_t best_votes = 0;
  for (const Shard& s : shards) {
    if (!s.problem.empty()) continue;
    const auto key = std::make_pair(s.manifest.shards, s.manifest.run_key);
    if (++votes[key] > best_votes) {
      best_votes = votes[key];
      best = key;
    }
  }
  return best;
}

}  // namespace

int run_merge(const std::vector<std::string>& args) {
  const ParsedArgs parsed = parse_args(args, kMergeOptions);
  std::string output;
  bool partial = false, quiet = false;
  for (const auto& opt : parsed.options) {
    if (opt.name == "output") output = opt.value;
    else if (opt.name == "partial") partial = true;
    else if (opt.name == "quiet") quiet = true;
    else if (opt.name == "help") {
      fputs(kMergeHelp, stdout);
      return kExitOk;
    }
  }
  if (parsed.operands.empty()) throw UsageError("no reports to merge (give REPORT...)");

  std::vector<Shard> shards;
  const std::string suffix = shard_manifest_path("");
  for (std::string report : parsed.operands) {
    if (report.size() > suffix.size() && report.compare(report.size() - suffix.size(), suffix.size(), suffix) == 0)
      report.resize(report.size() - suffix.size());  // a manifest given for its report
    if (!output.empty() && report == output) throw UsageError("-o " + output + " is also a report to merge");
    shards.push_back(Shard{report, {}, {}});
    check_shard(shards.back());
  }

  // Every shard must come from the run most of them agree on, once each.
  const auto [count, key] = majority_run(shards);
  std::vector<const Shard*> by_index(count, nullptr);
  for (Shard& s : shards) {
    if (!s.problem.empty()) continue;
    if (s.manifest.shards != count || s.manifest.run_key != key) {
      s.problem = "from another run: shard " + std::to_string(s.manifest.shard) + " of " +
                  std::to_string(s.manifest.shards) + ", run key " + s.manifest.run_key + " (" +
                  s.manifest.settings + ") where the others have " + std::to_string(count) +
                  " shards, run key " + key;
    } else if (const Shard* first = by_index[s.manifest.shard]) {
      s.problem = "shard " + std::to_string(s.manifest.shard) + " again (first given as " + first->report + ")";
    } else {
      by_index[s.manifest.shard] = &s;
    }
  }

  size_t problems = 0;
  for (const Shard& s : shards)
    if (!s.problem.empty()) {
      fprintf(stderr, "hashmatch merge: %s: %s\n", s.report.c_str(), s.problem.c_str());
      ++problems;
    }
  std::vector<const Shard*> good;
  for (uint32_t i = 0; i < count; ++i) {
    if (by_index[i]) {
      good.push_back(by_index[i]);
    } else {
      fprintf(stderr, "hashmatch merge: shard %u of %u: missing\n", i, count);
      ++problems;
    }
  }
  if (count == 0) fputs("hashmatch merge: no complete shard report\n", stderr);

  uint64_t records = 0;
  const bool write = problems == 0 || partial;
  if (write) {
    if (output.empty()) {
      records = write_merged(good, stdout, "standard output");
      if (fflush(stdout) != 0) throw std::runtime_error(std::string("cannot write standard output: ") + strerror(errno));
    } else {
      // Written aside and renamed, so a failed merge leaves no half report.
      const std::string temp = output + ".tmp";
      File out(fopen(temp.c_str(), "wb"));
      if (!out) throw std::runtime_error("cannot create " + temp + ": " + strerror(errno));
      try {
        records = write_merged(good, out.get(), temp);
        if (fclose(out.release()) != 0) throw std::runtime_error("cannot write " + temp + ": " + strerror(errno));
        if (rename(temp.c_str(), output.c_str()) != 0)
          throw std::runtime_error("cannot rename " + temp + " to " + output + ": " + strerror(errno));
      } catch (...) {
        out.reset();
        unlink(temp.c_str());
        throw;
      }
    }
  }
  if (!quiet) {
    fprintf(stderr, "hashmatch merge: %zu of %u shards complete", good.size(), count);
    if (write) fprintf(stderr, ", %llu records written", (unsigned long long)records);
    else fputs(", nothing written (--partial writes the complete shards)", stderr);
    fputc('\n', stderr);
  }
  return problems == 0 ? kExitOk : kExitSomeFailed;
}

}  // namespace hm::cli
