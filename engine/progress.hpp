// A live progress line on a terminal: one line redrawn in place, a few
// times a second, cleared at the end.
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "scan_stats.hpp"

namespace hm {

/// The progress line's text for `stats` after `seconds`, without control
/// characters: "120/400 files 30% | 40.0 files/s 5.1 MB/s | 2 errors |
/// 1 matched | ETA 0:07". The total, percent and ETA only when `total` is
/// known; "matched" only when stats.matching; the ETA once a file is done.
/// Cut to `width` characters when width > 0.
std::string format_progress(const ScanStats& stats, double seconds, std::optional<uint64_t> total,
                            size_t width = 0);

/// "M:SS", or "H:MM:SS" from an hour on; negative or non-finite values are 0.
std::string format_duration(double seconds);

/// The number of inputs a PathSource will yield for these operands, when it
/// is known without walking anything: no "-" operand, and with `recursive`
/// no directory operand (one stat() per operand). nullopt otherwise.
std::optional<uint64_t> known_input_count(const std::vector<std::string>& operands, bool recursive);

/// True when file descriptor 2 is a terminal; its width in columns (0 when
/// unknown) in `width`.
bool stderr_is_terminal(size_t* width);

/// Redraws one progress line on `out` ("\r", the text, clear to end of line)
/// at most every kInterval seconds, and only when enabled (callers enable it
/// for a terminal, not under -q). The first draw waits one interval, so a
/// short run draws nothing. Not thread-safe: the pipeline's emit stage owns it.
class ProgressLine {
 public:
  /// Seconds on a monotonic clock; injectable for tests.
  using Clock = std::function<double()>;
  static constexpr double kInterval = 0.25;

  /// `total`: the expected record count when known (for percent and ETA);
  /// `width`: the terminal's columns, 0 when unknown.
  ProgressLine(FILE* out, bool enabled, std::optional<uint64_t> total, size_t width = 0,
               Clock clock = steady_seconds);
  /// Clears the line if it is still shown (an exception unwinding the run).
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  /// Redraws from `stats` when an interval has passed since the last draw.
  void update(const ScanStats& stats);
  /// Erases the line, leaving the cursor at its start for the summary.
  void finish();
  /// The steady clock, in seconds.
  static double steady_seconds();

 private:
  FILE* out_;
  bool enabled_;
  std::optional<uint64_t> total_;
  size_t width_;
  Clock clock_;
  double start_;
  double last_draw_;
  bool shown_ = false;
};

}  // namespace hm
