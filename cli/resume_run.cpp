#include "resume_run.hpp"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "digest.hpp"
#include "hash_command.hpp"
#include "scan_stats.hpp"
#include "shard.hpp"

namespace hm::cli {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error(what + " " + path + ": " + strerror(err));
}

/// Whatever changes which inputs there are or what their records say.
/// Threads and backend are left out: they change neither. `match_settings`
/// describes scan's lists and match options (empty for hash).
std::string settings_of(const HashCommand& cmd, const std::string& match_settings) {
  std::string s = match_settings.empty() ? "hash" : "scan " + match_settings;
  s += " shard=" + std::to_string(cmd.shard.index) + "/" + std::to_string(cmd.shard.count);
  s += record_settings(cmd);
  return s;
}

std::string from_hex(const std::string& hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0 || hex.size() % 2) throw std::runtime_error("bad path_hex '" + hex + "'");
    out.push_back((char)(hi << 4 | lo));
  }
  return out;
}

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open", path, errno);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool exists(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0) return true;
  if (errno != ENOENT) fail("cannot stat", path, errno);
  return false;
}

}  // namespace

std::string resume_journal_path(const std::string& report) { return report + ".journal"; }

ResumeRun::ResumeRun(const HashCommand& cmd, const std::string& match_settings) : path_(cmd.output) {
  if (path_.empty()) return;
  const std::string journal = resume_journal_path(path_);
  if (!cmd.resume) {
    if (unlink(journal.c_str()) != 0 && errno != ENOENT) fail("cannot remove the old", journal, errno);
    return;
  }
  const std::string settings = settings_of(cmd, match_settings);
  const std::string key = run_key(cmd.operands, settings);
  if (exists(path_)) {
    if (!exists(journal))
      throw std::runtime_error("--resume: " + path_ + " exists but " + journal +
                               " does not, so it is not the report of a --resume run; "
                               "remove it or run without --resume");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_whole(journal));
      if (j.at("run_key").get<std::string>() != key) {
        const std::string old = j.at("settings").get<std::string>();
        throw std::runtime_error("--resume: " + path_ + " was written with other " +
                                 (old == settings ? "operands" : "options (" + old + ", now " + settings + ")") +
                                 "; give the same ones, or remove it to start over");
      }
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error("--resume: cannot read " + journal + ": " + e.what());
    }
  }
  // The journal is in place before the report exists, so a report without
  // one was never written by --resume.
  nlohmann::json j = {{"format", "jsonl"}, {"run_key", key}, {"settings", settings}, {"version", HM_VERSION}};
  for (const std::string& op : cmd.operands)
    j["operands_hex"].push_back(to_hex((const uint8_t*)op.data(), op.size()));
  write_file_atomically(journal, j.dump(2) + "\n");
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ < 0) fail("cannot open", path_, errno);
  load_report();
  last_sync_ = std::chrono::steady_clock::now();
}

ResumeRun::~ResumeRun() {
  if (fd_ >= 0) close(fd_);
}

void ResumeRun::load_report() {
  std::string text;
  char chunk[1 << 16];
  for (;;) {
    const ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot read", path_, errno);
    if (n == 0) break;
    text.append(chunk, (size_t)n);
  }
  size_t start = 0, keep = 0;
  uint64_t line_no = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    ++line_no;
    const bool last = nl == std::string::npos || nl + 1 == text.size();
    const std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    nlohmann::json record;
    bool whole = nl != std::string::npos;
    if (whole) {
      try {
        record = nlohmann::json::parse(line);
        whole = record.is_object() && record.contains("path");
      } catch (const nlohmann::json::exception&) {
        whole = false;
      }
    }
    if (!whole) {
      // Only the last line may be torn (a death inside write()); anything
      // else means the report is not what this run wrote.
      if (!last)
        throw std::runtime_error("--resume: line " + std::to_string(line_no) + " of " + path_ +
                                 " is not a report record; refusing to append to it");
      break;
    }
    done_.insert(record.contains("path_hex") ? from_hex(record.at("path_hex").get<std::string>())
                                             : record.at("path").get<std::string>());
    keep = nl + 1;
    start = nl + 1;
  }
  if (keep < text.size()) {
    fprintf(stderr, "hashmatch: --resume: dropped a torn last line of %s (%zu bytes)\n", path_.c_str(),
            text.size() - keep);
    if (ftruncate(fd_, (off_t)keep) != 0) fail("cannot truncate", path_, errno);
  }
  if (lseek(fd_, (off_t)keep, SEEK_SET) < 0) fail("cannot seek", path_, errno);
}

void ResumeRun::append(const std::vector<HashRecord>& records, const ReportFields& fields) {
  buffer_.clear();
  for (const HashRecord& r : records) {
    buffer_ += record_to_json(r, fields);
    buffer_.push_back('\n');
  }
  size_t written = 0;
  while (written < buffer_.size()) {
    const ssize_t n = write(fd_, buffer_.data() + written, buffer_.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot write", path_, errno);
    written += (size_t)n;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - last_sync_ >= kSyncInterval) {
    if (fdatasync(fd_) != 0) fail("cannot sync", path_, errno);
    last_sync_ = now;
  }
}

void ResumeRun::finish() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  const bool synced = fdatasync(fd) == 0;
  const int err = errno;
  if (close(fd) != 0 || !synced) fail("cannot write", path_, synced ? errno : err);
}

}  // namespace hm::cli
