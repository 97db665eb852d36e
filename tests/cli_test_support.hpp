// Helpers for the CLI end-to-end tests: run HM_CLI with pipes, parse its
// output, the golden manifest, temporary directories.
#pragma once

#include <gtest/gtest.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace cli_test {

namespace fs = std::filesystem;
using nlohmann::json;

inline const std::string kCli = HM_CLI;
inline const std::string kGolden = std::string(HM_TEST_DATA) + "/pdq-golden";
inline const std::string kImages = kGolden + "/images";

// ---------------------------------------------------------------- running

struct RunResult {
  int status = -1;  ///< exit status, or -1 when killed / not exited
  bool timed_out = false;
  std::string out;
  std::string err;
};

/// Starts HM_CLI with args and the given file actions; posix_spawn's result
/// (0 or an errno value), the child's pid in `pid`.
inline int spawn_cli(const std::vector<std::string>& args, const posix_spawn_file_actions_t& actions,
                     pid_t& pid) {
  std::vector<std::string> argv_s = {kCli};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  return posix_spawn(&pid, kCli.c_str(), &actions, nullptr, argv.data(), environ);
}

/// Runs HM_CLI with args, feeding stdin_bytes, capturing stdout and stderr.
/// Kills the child after timeout_s and reports timed_out.
inline RunResult run_cli(const std::vector<std::string>& args, const std::string& stdin_bytes = "",
                  double timeout_s = 30) {
  signal(SIGPIPE, SIG_IGN);  // the child may exit before reading all of stdin
  RunResult result;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  pid_t pid = -1;
  const int rc = spawn_cli(args, actions, pid);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << kCli << ": " << strerror(rc);
    close(in[1]);
    close(out[0]);
    close(err[0]);
    return result;
  }
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  size_t written = 0;
  int in_fd = in[1];
  if (stdin_bytes.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  int out_fd = out[0], err_fd = err[0];
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds((long)(timeout_s * 1000));
  while (out_fd >= 0 || err_fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd fds[3];
    int n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in_fd >= 0) fds[idx_in = n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[idx_out = n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[idx_err = n++] = {err_fd, POLLIN, 0};
    const int ready = poll(fds, n, (int)std::min<long long>(left, 1000));
    if (ready < 0) {
      if (errno == EINTR) continue;
      ADD_FAILURE() << "poll: " << strerror(errno);
      kill(pid, SIGKILL);
      break;
    }
    if (idx_in >= 0 && fds[idx_in].revents) {
      const ssize_t w = write(in_fd, stdin_bytes.data() + written, stdin_bytes.size() - written);
      if (w > 0) written += (size_t)w;
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_bytes.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
    auto drain = [](int& fd, std::string& into) {
      char buf[65536];
      const ssize_t r = read(fd, buf, sizeof buf);
      if (r > 0) {
        into.append(buf, (size_t)r);
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fd);
        fd = -1;
      }
    };
    if (idx_out >= 0 && fds[idx_out].revents) drain(out_fd, result.out);
    if (idx_err >= 0 && fds[idx_err].revents) drain(err_fd, result.err);
  }
  for (int fd : {in_fd, out_fd, err_fd})
    if (fd >= 0) close(fd);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  result.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  return result;
}

inline std::string describe(const RunResult& r) {
  std::ostringstream s;
  s << "exit " << r.status << (r.timed_out ? " (TIMED OUT)" : "") << "\n--- stdout:\n"
    << r.out.substr(0, 4000) << "\n--- stderr:\n"
    << r.err.substr(0, 4000);
  return s.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(text.substr(start, nl - start));
  EXPECT_EQ(start, text.size()) << "output does not end with a newline";
  return lines;
}

inline std::vector<json> jsonl(const RunResult& r) {
  std::vector<json> records;
  for (const auto& line : lines_of(r.out)) {
    try {
      records.push_back(json::parse(line));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << line << " (" << e.what() << ")";
    }
  }
  return records;
}

// ---------------------------------------------------------------- expectations

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << path;
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline std::string evp_hex(const EVP_MD* md, const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr), 1);
  std::string hex;
  char buf[3];
  for (unsigned i = 0; i < len; ++i) {
    snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

using Row = std::map<std::string, std::string>;

inline const std::map<std::string, Row>& manifest() {
  static const std::map<std::string, Row> rows = [] {
    std::map<std::string, Row> m;
    std::ifstream f(kGolden + "/manifest.tsv");
    std::string line;
    std::vector<std::string> header;
    auto split = [](const std::string& l) {
      std::vector<std::string> cols;
      size_t start = 0;
      for (size_t tab; (tab = l.find('\t', start)) != std::string::npos; start = tab + 1)
        cols.push_back(l.substr(start, tab - start));
      cols.push_back(l.substr(start));
      return cols;
    };
    if (std::getline(f, line)) header = split(line);
    while (std::getline(f, line)) {
      if (line.empty()) continue;
      const auto cols = split(line);
      Row row;
      for (size_t i = 0; i < header.size() && i < cols.size(); ++i) row[header[i]] = cols[i];
      m[row["file"]] = row;
    }
    return m;
  }();
  return rows;
}

inline const Row& golden(const std::string& file) {
  static const Row empty;
  const auto it = manifest().find(file);
  if (it == manifest().end()) {
    ADD_FAILURE() << file << " is not in the manifest";
    return empty;
  }
  return it->second;
}

inline std::string image(const std::string& file) { return kImages + "/" + file; }

/// Checks one ok record against the manifest and OpenSSL.
inline void expect_golden_record(const json& j, const std::string& path, const std::string& file) {
  SCOPED_TRACE(file);
  const Row& row = golden(file);
  ASSERT_EQ(row.at("status"), "ok");
  EXPECT_EQ(j.at("path"), path);
  EXPECT_EQ(j.at("status"), "ok");
  EXPECT_FALSE(j.contains("error"));
  EXPECT_EQ(j.at("pdq"), row.at("pdq_hex"));
  EXPECT_EQ(j.at("quality"), std::stoi(row.at("quality")));
  EXPECT_EQ(j.at("width"), std::stoi(row.at("width")));
  EXPECT_EQ(j.at("height"), std::stoi(row.at("height")));
  const std::string bytes = read_bytes(image(file));
  EXPECT_EQ(j.at("md5"), evp_hex(EVP_md5(), bytes));
  EXPECT_EQ(j.at("sha1"), evp_hex(EVP_sha1(), bytes));
  EXPECT_EQ(j.at("sha256"), evp_hex(EVP_sha256(), bytes));
}

// A handful of golden files: JPEG and PNG, colour, grey, alpha, tiny.
inline const std::vector<std::string> kHandful = {
    "gnome_adwaita_l__tiny.jpg", "gnome_adwaita_l__orig.jpg", "gnome_adwaita_l__png_alpha.png",
    "gnome_adwaita_l__gray.jpg", "gnome_adwaita_l__flip_h.jpg"};

class TempDir {
 public:
  TempDir() {
    const char* tmp = getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/hm_cli_XXXXXX";
    if (mkdtemp(templ.data())) path_ = templ;
    EXPECT_FALSE(path_.empty()) << "mkdtemp: " << strerror(errno);
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

}  // namespace cli_test
