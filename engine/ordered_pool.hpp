// Runs work items on a thread pool and hands results back in input order.
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace hm {

/// Pulls inputs with `next(In&) -> bool` (called under a lock, so the source
/// needs no locking of its own), computes `work(thread_index, In&) -> Out` on
/// `threads` workers, and calls `emit(Out&)` on the calling thread strictly in
/// input order. At most `window` results are in flight, so memory is bounded
/// however many inputs there are. An exception from next, work or emit stops
/// the pool and is rethrown here once the workers have finished.
template <typename In, typename Out, typename Next, typename Work, typename Emit>
void run_ordered(int threads, size_t window, Next&& next, Work&& work, Emit&& emit) {
  if (threads < 1) threads = 1;
  // Honour the caller's window even below the thread count (extra workers
  // just wait): raising it would break the memory bound promised above.
  if (window < 1) window = 1;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::optional<Out>> slots(window);
  size_t issued = 0;   // inputs handed to workers
  size_t emitted = 0;  // results passed to emit
  bool exhausted = false;
  bool stop = false;
  std::exception_ptr failure;

  auto fail = [&](std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!failure) failure = e;
    stop = true;
    changed.notify_all();
  };

  auto worker = [&](int index) {
    In input;
    while (true) {
      size_t slot;
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return stop || exhausted || issued - emitted < window; });
        if (stop || exhausted) return;
        try {
          if (!next(input)) {
            exhausted = true;
            changed.notify_all();
            return;
          }
        } catch (...) {
          if (!failure) failure = std::current_exception();
          stop = true;
          changed.notify_all();
          return;
        }
        slot = issued++;
      }
      try {
        Out out = work(index, input);
        std::lock_guard<std::mutex> lock(mutex);
        slots[slot % window].emplace(std::move(out));
        changed.notify_all();
      } catch (...) {
        fail(std::current_exception());
        return;
      }
    }
  };

  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int i = 0; i < threads; ++i) pool.emplace_back(worker, i);

  while (true) {
    std::optional<Out> ready;
    {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] {
        return stop || slots[emitted % window].has_value() || (exhausted && emitted == issued);
      });
      if (stop || !slots[emitted % window].has_value()) break;
      ready.swap(slots[emitted % window]);
    }
    try {
      emit(*ready);
    } catch (...) {
      fail(std::current_exception());
      break;
    }
    // Count the result as emitted only once emit is done with it, so the
    // one being emitted is part of the window (at most `window` in flight).
    std::lock_guard<std::mutex> lock(mutex);
    ++emitted;
    changed.notify_all();
  }
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace hm
