#include "progress.hpp"

#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace hm {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  // Whole seconds, capped so the cast cannot overflow (about 114 years).
  const uint64_t s = (uint64_t)std::min(seconds + 0.5, 3.6e9);
  char buf[48];
  if (s >= 3600)
    snprintf(buf, sizeof buf, "%llu:%02u:%02u", (unsigned long long)(s / 3600), (unsigned)(s / 60 % 60),
             (unsigned)(s % 60));
  else
    snprintf(buf, sizeof buf, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
  return buf;
}

std::string format_progress(const ScanStats& stats, double seconds, std::optional<uint64_t> total,
                            size_t width) {
  const double rate = seconds > 0 ? (double)stats.files / seconds : 0.0;
  const double mb_rate = seconds > 0 ? (double)stats.bytes / 1e6 / seconds : 0.0;
  std::string line = std::to_string(stats.files);
  if (total) line += "/" + std::to_string(*total);
  line += " files";
  char buf[96];
  if (total && *total > 0) {
    // Capped: a file that appeared after the count cannot make it 101%.
    snprintf(buf, sizeof buf, " %d%%", (int)std::min(100.0, 100.0 * (double)stats.files / (double)*total));
    line += buf;
  }
  snprintf(buf, sizeof buf, " | %.1f files/s %.1f MB/s | %llu errors", rate, mb_rate,
           (unsigned long long)stats.errors);
  line += buf;
  if (stats.matching) line += " | " + std::to_string(stats.matched) + " matched";
  if (total && stats.files > 0 && rate > 0) {
    const double left = *total > stats.files ? (double)(*total - stats.files) : 0.0;
    line += " | ETA " + format_duration(left / rate);
  }
  if (width > 0 && line.size() > width) line.resize(width);
  return line;
}

std::optional<uint64_t> known_input_count(const std::vector<std::string>& operands, bool recursive) {
  // Mirrors PathSource: each operand is one input, except "-" (a list of
  // unknown length) and, with recursion, a directory (a walk).
  for (const std::string& op : operands) {
    if (op == "-") return std::nullopt;
    struct stat st;
    if (recursive && stat(op.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return std::nullopt;
  }
  return operands.size();
}

bool stderr_is_terminal(size_t* width) {
  if (width) *width = 0;
  if (!isatty(STDERR_FILENO)) return false;
  struct winsize ws;
  if (width && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0) *width = ws.ws_col;
  return true;
}

double ProgressLine::steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

ProgressLine::ProgressLine(FILE* out, bool enabled, std::optional<uint64_t> total, size_t width, Clock clock)
    : out_(out), enabled_(enabled), total_(total), width_(width), clock_(std::move(clock)) {
  start_ = last_draw_ = enabled_ ? clock_() : 0.0;
}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(const ScanStats& stats) {
  if (!enabled_) return;
  const double now = clock_();
  if (now - last_draw_ < kInterval) return;
  last_draw_ = now;
  // One column short of the width: writing the last column would make some
  // terminals wrap, and "\r" would then return to the wrong line.
  const std::string text = format_progress(stats, now - start_, total_, width_ > 1 ? width_ - 1 : 0);
  fprintf(out_, "\r%s\x1b[K", text.c_str());
  fflush(out_);
  shown_ = true;
}

void ProgressLine::finish() {
  if (!shown_) return;
  fputs("\r\x1b[K", out_);
  fflush(out_);
  shown_ = false;
}

}  // namespace hm
