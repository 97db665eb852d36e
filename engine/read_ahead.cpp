#include "read_ahead.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace hm {

namespace {

/// Asks the kernel to read a regular file into the page cache. O_NONBLOCK:
/// opening a FIFO must not wait for a writer (the hasher opens it the same way).
bool advise_will_need(const std::string& path, uint64_t max_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return false;
  struct stat st;
  bool hinted = false;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      (uint64_t)st.st_size <= max_bytes)
    hinted = posix_fadvise(fd, 0, st.st_size, POSIX_FADV_WILLNEED) == 0;
  close(fd);
  return hinted;
}

}  // namespace

ReadAhead::ReadAhead(size_t depth, uint64_t max_hint_bytes, size_t hint_depth)
    : depth_(depth),
      max_hint_bytes_(max_hint_bytes),
      hint_depth_(std::min(depth, hint_depth)),
      wake_batch_(std::max<size_t>(1, hint_depth_ / 8)) {
  if (hint_depth_ > 0) thread_ = std::thread([this] { run(); });
}

ReadAhead::~ReadAhead() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void ReadAhead::hint(const std::string& path, uint64_t sequence) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(Hint{path, sequence});
    wake = queue_.size() == wake_batch_;
  }
  if (wake) wake_.notify_one();
}

void ReadAhead::hint_the_rest() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (input_ended_ && queue_.empty()) return;  // said already, nothing new
    input_ended_ = true;
  }
  wake_.notify_one();
}

void ReadAhead::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  std::deque<Hint> batch;
  while (true) {
    wake_.wait(lock, [&] {
      return stop_ || queue_.size() >= wake_batch_ || (input_ended_ && !queue_.empty());
    });
    if (stop_) return;
    batch.swap(queue_);
    lock.unlock();
    for (const Hint& h : batch)
      // A worker that already took the item reads the file itself.
      if (h.sequence >= taken_.load(std::memory_order_relaxed) &&
          advise_will_need(h.path, max_hint_bytes_))
        hinted_.fetch_add(1, std::memory_order_relaxed);
    batch.clear();
    lock.lock();
  }
}

}  // namespace hm
