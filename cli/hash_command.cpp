#include "hash_command.hpp"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "commands.hpp"
#include "matcher.hpp"
#include "progress.hpp"
#include "resume_run.hpp"
#include "scan_pipeline.hpp"
#include "scan_stats.hpp"
#include "shard_run.hpp"

namespace hm::cli {

const std::vector<OptionSpec> kHashOptions = {
    {"recursive", 'r', false}, {"null", '0', false},         {"output", 'o', true},
    {"format", 0, true},       {"algo", 0, true},            {"dihedral", 0, false},
    {"threads", 0, true},      {"max-pixels", 0, true},      {"max-file-bytes", 0, true},
    {"16bit", 0, true},        {"quiet", 'q', false},        {"help", 'h', false},
    {"backend", 0, true},      {"shard", 0, true},
    {"summary", 0, true},      {"resume", 0, false},         {"decode", 0, true},
    {"read-ahead", 0, true},
};

const char kHashOptionsHelp[] = R"(  -r, --recursive        take the files under directories (sorted, depth first;
                         links to directories are not followed)
  -0, --null             paths on standard input are NUL-separated
  -o, --output FILE      write the report to FILE instead of standard output
      --format FMT       jsonl (default), csv or text
      --algo LIST        comma-separated: pdq, md5, sha1, sha256, all (default all)
      --dihedral         also compute the 8 dihedral PDQ hashes (pdq_dihedral)
      --threads N        worker threads (default: all cores)
      --read-ahead N     ask the kernel to start reading the next N files
                         (each under 8 MB) before the workers open them
                         (default 32 + 4 x threads; 0: off; paths on standard
                         input are never read ahead)
      --max-pixels N     refuse images above N pixels, from the header, before
                         decoding (default 200000000)
      --max-file-bytes N refuse files above N bytes (default 2147483648)
      --16bit MODE       16-bit samples: scale (default, round(v/257)) or
                         low-byte (v mod 256, as the reference tool does)
      --decode MODE      exact (default: the reference's pixels) or fast: JPEGs
                         decoded luma only and scaled down in the DCT domain
                         to no less than PDQ's 512 working size; faster, and
                         the hashes drift a few bits (README)
      --backend B        auto (default: cuda when built with it and a GPU is
                         present), cpu or cuda: where PDQ is hashed (the same
                         hashes either way) and exact PDQ lists are searched
      --shard I/N        take only shard I of N (0 <= I < N): the files whose
                         path hashes to I; needs -o FILE, and writes
                         FILE.shard.json when the run completes. auto/N takes
                         I from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX.
                         Give every shard the same operands; join the reports
                         with 'hashmatch merge' (docs/scale-out.md)
      --resume           continue a run that was cut short: keep the records
                         -o FILE already holds, hash only the inputs it lacks
                         and append them (jsonl only; FILE.journal checks that
                         the operands and options are the same)
      --summary FILE     also write the run's counts (files, ok, errors by kind,
                         matched, bytes, seconds, rates) as one JSON object
                         to FILE, replaced whole when the run ends
  -q, --quiet            no progress line (shown only on a terminal) and no
                         summary on standard error
  -h, --help             this help
)";

namespace {

void parse_algos(const std::string& list, HashOptions& h) {
  h.pdq = h.md5 = h.sha1 = h.sha256 = false;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    const std::string name = list.substr(start, comma == std::string::npos ? comma : comma - start);
    if (name == "pdq") h.pdq = true;
    else if (name == "md5") h.md5 = true;
    else if (name == "sha1") h.sha1 = true;
    else if (name == "sha256") h.sha256 = true;
    else if (name == "all") h.pdq = h.md5 = h.sha1 = h.sha256 = true;
    else throw UsageError("unknown --algo '" + name + "' (pdq, md5, sha1, sha256, all)");
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

// Opens -o FILE (or stdout) with a large buffer; closes and checks on exit.
class ReportOutput {
 public:
  explicit ReportOutput(const std::string& path) : path_(path) {
    if (!path.empty()) {
      file_.reset(fopen(path.c_str(), "w"));
      if (!file_)
        throw std::runtime_error("cannot open " + path + " for writing: " + strerror(errno));
    }
    setvbuf(get(), buffer_.get(), _IOFBF, kBufferBytes);
  }
  FILE* get() const { return file_ ? file_.get() : stdout; }
  /// Closes the file; throws when the last writes failed.
  void close() {
    if (file_ && fclose(file_.release()) != 0)
      throw std::runtime_error("cannot write " + path_ + ": " + strerror(errno));
  }

 private:
  static constexpr size_t kBufferBytes = 1 << 16;
  std::string path_;
  std::unique_ptr<FILE, int (*)(FILE*)> file_{nullptr, fclose};
  std::unique_ptr<char[]> buffer_{new char[kBufferBytes]};
};

}  // namespace

bool apply_hash_option(const ParsedOption& opt, HashCommand& cmd) {
  const std::string& n = opt.name;
  if (n == "recursive") cmd.source.recursive = true;
  else if (n == "null") cmd.source.stdin_delimiter = '\0';
  else if (n == "output") cmd.output = opt.value;
  else if (n == "format") {
    if (opt.value == "jsonl") cmd.format = ReportFormat::Jsonl;
    else if (opt.value == "csv") cmd.format = ReportFormat::Csv;
    else if (opt.value == "text") cmd.format = ReportFormat::Text;
    else throw UsageError("unknown --format '" + opt.value + "' (jsonl, csv, text)");
  } else if (n == "algo") parse_algos(opt.value, cmd.hash);
  else if (n == "dihedral") cmd.hash.dihedral = true;
  else if (n == "threads") {
    const auto t = parse_count(n, opt.value);
    if (t < 1 || t > 1024) throw UsageError("--threads must be between 1 and 1024");
    cmd.threads = (int)t;
  } else if (n == "read-ahead") {
    const auto r = parse_count(n, opt.value);
    if (r > 100000) throw UsageError("--read-ahead must be at most 100000");
    cmd.read_ahead = (int)r;
  } else if (n == "max-pixels") {
    cmd.hash.decode.max_pixels = parse_count(n, opt.value);
  } else if (n == "max-file-bytes") {
    cmd.hash.max_file_bytes = parse_count(n, opt.value);
  } else if (n == "16bit") {
    if (opt.value == "scale") cmd.hash.decode.sample16 = Sample16::Scale;
    else if (opt.value == "low-byte") cmd.hash.decode.sample16 = Sample16::LowByte;
    else throw UsageError("unknown --16bit '" + opt.value + "' (scale, low-byte)");
  } else if (n == "decode") {
    if (opt.value == "exact") cmd.hash.decode.mode = DecodeMode::Exact;
    else if (opt.value == "fast") cmd.hash.decode.mode = DecodeMode::Fast;
    else throw UsageError("unknown --decode '" + opt.value + "' (exact, fast)");
  } else if (n == "backend") {
    try {
      cmd.backend = parse_backend_choice(opt.value);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  } else if (n == "shard") cmd.shard = parse_shard_option(opt.value);
  else if (n == "resume") cmd.resume = true;
  else if (n == "summary") {
    if (opt.value.empty()) throw UsageError("--summary needs a file");
    cmd.summary = opt.value;
  } else if (n == "quiet") cmd.quiet = true;
  else if (n == "help") cmd.help = true;
  else return false;
  return true;
}

std::string record_settings(const HashCommand& cmd) {
  const HashOptions& h = cmd.hash;
  std::string s;
  std::string algos;
  for (const auto& [on, name] : {std::pair{h.pdq, "pdq"}, {h.dihedral, "dihedral"}, {h.md5, "md5"},
                                 {h.sha1, "sha1"}, {h.sha256, "sha256"}})
    if (on) algos += (algos.empty() ? "" : ",") + std::string(name);
  s += " algo=" + algos;
  s += std::string(" recursive=") + (cmd.source.recursive ? "1" : "0");
  s += std::string(" null=") + (cmd.source.stdin_delimiter == '\0' ? "1" : "0");
  s += " max-pixels=" + std::to_string(h.decode.max_pixels);
  s += " max-file-bytes=" + std::to_string(h.max_file_bytes);
  s += std::string(" 16bit=") + (h.decode.sample16 == Sample16::LowByte ? "low-byte" : "scale");
  if (h.decode.mode == DecodeMode::Fast) s += " decode=fast";  // only then: exact journals stay valid
  return s;
}

void finish_hash_command(HashCommand& cmd) {
  if (cmd.hash.dihedral && !cmd.hash.pdq) throw UsageError("--dihedral needs pdq in --algo");
  cmd.fields.pdq = cmd.hash.pdq;
  cmd.fields.dihedral = cmd.hash.dihedral;
  cmd.fields.md5 = cmd.hash.md5;
  cmd.fields.sha1 = cmd.hash.sha1;
  cmd.fields.sha256 = cmd.hash.sha256;
  cmd.fields.decode_fast = cmd.hash.decode.mode == DecodeMode::Fast;
  if (!cmd.help && cmd.operands.empty()) throw UsageError("no input paths (give PATH... or -)");
  if (!cmd.help && cmd.shard.enabled() && cmd.output.empty())
    throw UsageError("--shard needs -o FILE (the manifest FILE.shard.json goes next to it)");
  if (cmd.shard.enabled() && cmd.format == ReportFormat::Text)
    throw UsageError("--shard needs --format jsonl or csv (merge counts their records)");
  if (!cmd.help && cmd.resume && cmd.output.empty())
    throw UsageError("--resume needs -o FILE (the report to continue)");
  if (cmd.resume && cmd.format != ReportFormat::Jsonl)
    throw UsageError("--resume needs --format jsonl (its records name their paths unambiguously)");
  if (cmd.threads == 0) cmd.threads = (int)std::max(1u, std::thread::hardware_concurrency());
}

int run_hash_pipeline(const HashCommand& cmd, const MatchStage& match) {
  PipelineOptions options;
  options.hash = cmd.hash;
  options.threads = cmd.threads;
  // Files the workers will open next are already being read by the kernel:
  // a cold store's reads overlap decoding. Paths on standard input are taken
  // as they come (no read-ahead, no file groups): a slow producer is never
  // waited for.
  const bool from_stdin =
      std::find(cmd.operands.begin(), cmd.operands.end(), "-") != cmd.operands.end();
  options.read_ahead =
      from_stdin ? 0 : cmd.read_ahead >= 0 ? (size_t)cmd.read_ahead : 32 + 4 * (size_t)cmd.threads;
  options.group_files = !from_stdin;
  // Settled before the report file is created: a missing GPU is a fatal error.
  options.backend = resolve_backend(cmd.backend);
  options.matcher = match.matcher;
  options.batch = match.batch;
  ScanPipeline pipeline(options);

  ShardRun shard(cmd, match.matcher ? match.settings : std::string());
  if (!cmd.summary.empty()) check_can_create(cmd.summary);  // fail now, not after the run
  // Before the report is opened: --resume reads what it holds.
  ResumeRun resume(cmd, match.matcher ? match.settings : std::string());
  std::optional<ReportOutput> output;
  if (!resume.active()) output.emplace(cmd.output);
  const auto start = std::chrono::steady_clock::now();
  PathSource source(cmd.operands, cmd.source);
  ReportFields fields = cmd.fields;
  fields.matches = match.matcher != nullptr;
  std::optional<ReportWriter> writer;
  if (output) writer.emplace(output->get(), cmd.format, fields);
  ScanStats stats;
  stats.command = match.matcher ? "scan" : "hash";
  stats.backend = backend_name(options.backend);
  stats.matching = match.matcher != nullptr;
  size_t columns = 0;
  const bool show_progress = stderr_is_terminal(&columns) && !cmd.quiet;
  // Percent and ETA only when the count is known without a walk; a shard
  // takes an unknown part of the inputs.
  std::optional<uint64_t> total;
  if (show_progress && !cmd.shard.enabled() && !resume.already_done())
    total = known_input_count(cmd.operands, cmd.source.recursive);
  ProgressLine progress(stderr, show_progress, total, columns);

  pipeline.run(
      [&](SourceItem& item) {
        while (shard.next(source, item))
          if (!resume.done(item.path)) return true;  // one record per file across runs
        return false;
      },
      [&](std::vector<HashRecord>& records) {
        if (resume.active()) resume.append(records, fields);
        for (const auto& r : records) {
          if (writer) writer->write(r);
          stats.add(r);
        }
        progress.update(stats);
      });
  progress.finish();
  if (writer) writer->flush();
  if (output) output->close();
  resume.finish();
  shard.finish();  // only now is the shard's report complete
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!cmd.summary.empty()) write_file_atomically(cmd.summary, stats.to_json());
  if (!cmd.quiet) {
    fprintf(stderr, "hashmatch: %s, backend %s", stats.summary_line().c_str(),
            backend_name(options.backend));
    if (resume.already_done())
      fprintf(stderr, "; resumed: %llu files were already in the report",
              (unsigned long long)resume.already_done());
    if (options.backend == Backend::Cuda && cmd.hash.pdq)
      fprintf(stderr, pipeline.pdq_on_gpu() ? " (%s)" : " (PDQ fell back to the CPU)",
              pipeline.pdq_on_gpu() ? pipeline.gpu_name().c_str() : "");
    fputc('\n', stderr);
  }
  if (match.fail_on_match && stats.matched) return kExitMatches;
  return stats.errors ? kExitSomeFailed : kExitOk;
}

}  // namespace hm::cli
