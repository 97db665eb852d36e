// hashmatch hash: PDQ and exact digests of image files, one record per file.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>

#include "args.hpp"
#include "commands.hpp"
#include "file_hasher.hpp"
#include "ordered_pool.hpp"
#include "path_source.hpp"
#include "report_writer.hpp"

namespace hm::cli {

namespace {

const char kHashHelp[] = R"(Usage: hashmatch hash [options] PATH...

Computes the PDQ perceptual hash (bit-identical to Meta's reference) and the
MD5, SHA-1 and SHA-256 digests of image files. Writes one record per input
file, in input order. PATH may be a file, a directory (with -r), or - to read
paths from standard input, one per line (NUL-separated with -0).

Options:
  -r, --recursive        hash the files under directories (sorted, depth first;
                         links to directories are not followed)
  -0, --null             paths on standard input are NUL-separated
  -o, --output FILE      write the report to FILE instead of standard output
      --format FMT       jsonl (default), csv or text
      --algo LIST        comma-separated: pdq, md5, sha1, sha256, all (default all)
      --dihedral         also output the 8 dihedral PDQ hashes (pdq_dihedral)
      --threads N        worker threads (default: all cores)
      --max-pixels N     refuse images above N pixels, from the header, before
                         decoding (default 200000000)
      --max-file-bytes N refuse files above N bytes (default 2147483648)
      --16bit MODE       16-bit samples: scale (default, round(v/257)) or
                         low-byte (v mod 256, as the reference tool does)
  -q, --quiet            no summary on standard error
  -h, --help             this help

Exit status: 0 every file hashed; 1 some files have error records (all
records are still written); 2 usage or fatal error.
Formats: JPEG, PNG, WebP, GIF (first frame), BMP, recognised by content.
)";

const std::vector<OptionSpec> kHashOptions = {
    {"recursive", 'r', false}, {"null", '0', false},         {"output", 'o', true},
    {"format", 0, true},       {"algo", 0, true},            {"dihedral", 0, false},
    {"threads", 0, true},      {"max-pixels", 0, true},      {"max-file-bytes", 0, true},
    {"16bit", 0, true},        {"quiet", 'q', false},        {"help", 'h', false},
};

struct HashCommand {
  HashOptions hash;
  ReportFields fields;
  ReportFormat format = ReportFormat::Jsonl;
  SourceOptions source;
  std::string output;
  int threads = 0;
  bool quiet = false;
  bool help = false;
  std::vector<std::string> operands;
};

void parse_algos(const std::string& list, HashCommand& cmd) {
  HashOptions& h = cmd.hash;
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

HashCommand parse_hash_command(const std::vector<std::string>& args) {
  HashCommand cmd;
  const ParsedArgs parsed = parse_args(args, kHashOptions);
  for (const auto& opt : parsed.options) {
    const std::string& n = opt.name;
    if (n == "recursive") cmd.source.recursive = true;
    else if (n == "null") cmd.source.stdin_delimiter = '\0';
    else if (n == "output") cmd.output = opt.value;
    else if (n == "format") {
      if (opt.value == "jsonl") cmd.format = ReportFormat::Jsonl;
      else if (opt.value == "csv") cmd.format = ReportFormat::Csv;
      else if (opt.value == "text") cmd.format = ReportFormat::Text;
      else throw UsageError("unknown --format '" + opt.value + "' (jsonl, csv, text)");
    } else if (n == "algo") parse_algos(opt.value, cmd);
    else if (n == "dihedral") cmd.hash.dihedral = true;
    else if (n == "threads") {
      const auto t = parse_count(n, opt.value);
      if (t < 1 || t > 1024) throw UsageError("--threads must be between 1 and 1024");
      cmd.threads = (int)t;
    } else if (n == "max-pixels") {
      cmd.hash.decode.max_pixels = parse_count(n, opt.value);
    } else if (n == "max-file-bytes") {
      cmd.hash.max_file_bytes = parse_count(n, opt.value);
    } else if (n == "16bit") {
      if (opt.value == "scale") cmd.hash.decode.sample16 = Sample16::Scale;
      else if (opt.value == "low-byte") cmd.hash.decode.sample16 = Sample16::LowByte;
      else throw UsageError("unknown --16bit '" + opt.value + "' (scale, low-byte)");
    } else if (n == "quiet") cmd.quiet = true;
    else if (n == "help") cmd.help = true;
  }
  if (cmd.hash.dihedral && !cmd.hash.pdq) throw UsageError("--dihedral needs pdq in --algo");
  cmd.fields.pdq = cmd.hash.pdq;
  cmd.fields.dihedral = cmd.hash.dihedral;
  cmd.fields.md5 = cmd.hash.md5;
  cmd.fields.sha1 = cmd.hash.sha1;
  cmd.fields.sha256 = cmd.hash.sha256;
  cmd.operands = parsed.operands;
  if (!cmd.help && cmd.operands.empty()) throw UsageError("no input paths (give PATH... or -)");
  if (cmd.threads == 0) cmd.threads = (int)std::max(1u, std::thread::hardware_concurrency());
  return cmd;
}

}  // namespace

int run_hash(const std::vector<std::string>& args) {
  const HashCommand cmd = parse_hash_command(args);
  if (cmd.help) {
    fputs(kHashHelp, stdout);
    return kExitOk;
  }
  FILE* out = stdout;
  std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, fclose);
  if (!cmd.output.empty()) {
    file.reset(fopen(cmd.output.c_str(), "w"));
    if (!file) {
      fprintf(stderr, "hashmatch: cannot open %s for writing: %s\n", cmd.output.c_str(),
              strerror(errno));
      return kExitUsage;
    }
    out = file.get();
  }
  static char out_buffer[1 << 16];
  setvbuf(out, out_buffer, _IOFBF, sizeof(out_buffer));

  const auto start = std::chrono::steady_clock::now();
  PathSource source(cmd.operands, cmd.source);
  std::vector<std::unique_ptr<FileHasher>> hashers;
  for (int i = 0; i < cmd.threads; ++i) hashers.push_back(std::make_unique<FileHasher>(cmd.hash));
  ReportWriter writer(out, cmd.format, cmd.fields);
  size_t files = 0, failed = 0;
  run_ordered<SourceItem, HashRecord>(
      cmd.threads, (size_t)cmd.threads * 8, [&](SourceItem& item) { return source.next(item); },
      [&](int thread, SourceItem& item) {
        if (!item.error.empty()) {
          HashRecord record;
          record.path = item.path;
          record.error = item.error;
          return record;
        }
        return hashers[thread]->hash_file(item.path);
      },
      [&](HashRecord& record) {
        ++files;
        if (!record.ok()) ++failed;
        writer.write(record);
      });
  writer.flush();
  if (file && fclose(file.release()) != 0) {
    fprintf(stderr, "hashmatch: cannot write %s: %s\n", cmd.output.c_str(), strerror(errno));
    return kExitUsage;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!cmd.quiet)
    fprintf(stderr, "hashmatch: %zu files, %zu ok, %zu errors in %.2f s (%.1f files/s)\n", files,
            files - failed, failed, seconds, seconds > 0 ? files / seconds : 0.0);
  return failed ? kExitSomeFailed : kExitOk;
}

}  // namespace hm::cli
