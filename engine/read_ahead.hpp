// Starts the kernel reading input files before the workers open them.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "path_source.hpp"

namespace hm {

/// Keeps `depth` inputs pulled ahead of the workers and hands the paths of
/// the first `hint_depth` of them to a background thread that asks the
/// kernel to read the file now (posix_fadvise WILLNEED), so a scan of a store
/// that is not in the page cache overlaps its disk or network reads with
/// decoding instead of each worker waiting for its own. Items come out in the
/// order they were pulled. Only hints: a file that changes or vanishes
/// meanwhile is the hasher's to report, and hints for items already taken
/// are skipped.
class ReadAhead {
 public:
  /// Files above `max_hint_bytes` are not hinted: they would hold that much
  /// page cache each, and the kernel's own readahead serves one long read.
  /// Depth 0: off (items pass straight through, nothing is hinted).
  /// hint_depth 0: nothing is hinted; items are only queued (see queued()).
  explicit ReadAhead(size_t depth, uint64_t max_hint_bytes = uint64_t(16) << 20,
                     size_t hint_depth = SIZE_MAX);
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  /// The next item, pulling through `pull(SourceItem&) -> bool` (false when
  /// the inputs are exhausted) to keep `depth` items ahead. Callers serialise
  /// next(), as for PathSource.
  template <typename Pull>
  bool next(Pull&& pull, SourceItem& item) {
    if (depth_ == 0) return pull(item);
    while (!exhausted_ && ahead_.size() < depth_) {
      SourceItem pulled;
      if (!pull(pulled)) {
        exhausted_ = true;
        break;
      }
      ++pulled_;
      ahead_.push_back(std::move(pulled));
    }
    // Item k of ahead_ is input number taken + k.
    const uint64_t taken = taken_.load(std::memory_order_relaxed);
    next_hint_ = std::max(next_hint_, taken);
    for (; next_hint_ < taken + std::min<uint64_t>(ahead_.size(), hint_depth_); ++next_hint_) {
      const SourceItem& ahead = ahead_[next_hint_ - taken];
      if (ahead.error.empty()) hint(ahead.path, next_hint_);
    }
    if (exhausted_ && hint_depth_ > 0) hint_the_rest();
    if (ahead_.empty()) return false;
    item = std::move(ahead_.front());
    ahead_.pop_front();
    taken_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  /// Items pulled ahead and not yet taken (next()'s caller's lock).
  size_t queued() const { return ahead_.size(); }
  /// Files the background thread has asked the kernel to read so far.
  uint64_t hinted() const { return hinted_.load(std::memory_order_relaxed); }

 private:
  struct Hint {
    std::string path;
    uint64_t sequence;
  };
  void hint(const std::string& path, uint64_t sequence);
  /// Wakes the thread for the hints queued short of a batch (end of input).
  void hint_the_rest();
  void run();

  const size_t depth_;
  const uint64_t max_hint_bytes_;
  const size_t hint_depth_;
  std::deque<SourceItem> ahead_;  ///< pulled, not yet taken (next()'s caller's lock)
  bool exhausted_ = false;
  uint64_t pulled_ = 0;
  uint64_t next_hint_ = 0;  ///< the first input not yet handed to the thread
  std::atomic<uint64_t> taken_{0};
  std::atomic<uint64_t> hinted_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Hint> queue_;  ///< for the thread, under mutex_
  /// The thread wakes once this many hints wait (or the input ended): one
  /// wake per file cost a context switch per file on busy cores.
  const size_t wake_batch_;
  bool input_ended_ = false;  ///< under mutex_
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace hm
