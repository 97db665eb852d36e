#include "scan_stats.hpp"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace hm {

void ScanStats::add(const HashRecord& record) {
  ++files;
  if (record.ok()) ++ok;
  else {
    ++errors;
    ++errors_by_kind[error_kind(record.error)];
  }
  if (record.has_bytes) bytes += record.bytes;
  if (!record.matches.empty()) {
    ++matched;
    matches += record.matches.size();
  }
}

double ScanStats::files_per_second() const { return seconds > 0 ? (double)files / seconds : 0.0; }

double ScanStats::mb_per_second() const { return seconds > 0 ? (double)bytes / 1e6 / seconds : 0.0; }

std::string ScanStats::to_json() const {
  // ordered_json keeps the documented key order; std::map sorts the kinds.
  nlohmann::ordered_json j;
  j["files"] = files;
  j["ok"] = ok;
  j["errors"] = errors;
  j["errors_by_kind"] = nlohmann::ordered_json::object();
  for (const auto& [kind, count] : errors_by_kind) j["errors_by_kind"][kind] = count;
  j["matched"] = matched;
  j["matches"] = matches;
  j["bytes"] = bytes;
  j["seconds"] = seconds;
  j["files_per_second"] = files_per_second();
  j["mb_per_second"] = mb_per_second();
  j["backend"] = backend;
  j["command"] = command;
  // Replace: a path turned into U+FFFD is better than no summary at all.
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string ScanStats::summary_line() const {
  auto u = [](uint64_t v) { return std::to_string(v); };
  std::string line = u(files) + " files, " + u(ok) + " ok, " + u(errors) + " errors";
  if (!errors_by_kind.empty()) {
    line += " (";
    const char* sep = "";
    for (const auto& [kind, count] : errors_by_kind) {
      line += sep + kind + " " + u(count);
      sep = ", ";
    }
    line += ")";
  }
  if (matching) line += ", " + u(matched) + " matched";
  char tail[96];
  snprintf(tail, sizeof tail, " in %.2f s (%.1f files/s, %.1f MB/s)", seconds, files_per_second(),
           mb_per_second());
  return line + tail;
}

std::string error_kind(std::string_view error) {
  const size_t colon = error.find(": ");
  if (colon == std::string_view::npos || colon == 0) return "other";
  const std::string_view stage = error.substr(0, colon);
  for (char c : stage)
    if (!(c >= 'a' && c <= 'z') && c != '_') return "other";
  return std::string(stage);
}

namespace {

std::string parent_directory(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error(what + " " + path + ": " + strerror(err));
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view text) {
  // O_EXCL on a name of our own, not mkstemp: the file gets the usual
  // 0666 & ~umask mode instead of 0600.
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
    tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(attempt);
    fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) fail("cannot create", tmp, errno);
  }
  if (fd < 0) fail("cannot create", tmp, EEXIST);
  auto abandon = [&](int err) {
    close(fd);
    unlink(tmp.c_str());
    fail("cannot write", tmp, err);
  };
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t w = write(fd, text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) abandon(errno);
    done += (size_t)w;
  }
  // Flushed before the rename, so a crash cannot leave a renamed empty file.
  if (fsync(fd) != 0) abandon(errno);
  if (close(fd) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    fail("cannot write", tmp, err);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    fail("cannot rename to", path, err);
  }
}

void check_can_create(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) fail("cannot write", path, EISDIR);
  const std::string dir = parent_directory(path);
  if (access(dir.c_str(), W_OK | X_OK) != 0) fail("cannot create files in", dir, errno);
}

}  // namespace hm
