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
/// `threads` workers, and calls `emit(Out&)` strictly in input order, one call
/// at a time. The worker that completes the oldest pending result emits it
/// (and any results ready after it), so no extra thread competes with the
/// workers for the cores. At most `window` results are in flight, so memory
/// is bounded however many inputs there are. An exception from next, work or
/// emit stops the pool and is rethrown here once the workers have finished.
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
  size_t emitted = 0;  // results emit() has returned from
  bool exhausted = false;
  bool stop = false;
  bool draining = false;  // a worker is emitting; others leave it to that one
  std::exception_ptr failure;

  // All with the lock held.
  auto fail = [&](std::exception_ptr e) {
    if (!failure) failure = e;
    stop = true;
    changed.notify_all();
  };
  auto drain = [&](std::unique_lock<std::mutex>& lock) {
    if (draining) return;
    draining = true;
    while (!stop && slots[emitted % window].has_value()) {
      Out out = std::move(*slots[emitted % window]);
      slots[emitted % window].reset();
      lock.unlock();
      std::exception_ptr error;
      try {
        emit(out);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      if (error) {
        fail(error);
        break;
      }
      ++emitted;
      changed.notify_all();
    }
    draining = false;
  };

  auto worker = [&](int index) {
    In input;
    std::unique_lock<std::mutex> lock(mutex);
    while (true) {
      changed.wait(lock, [&] { return stop || exhausted || issued - emitted < window; });
      if (stop || exhausted) return;
      bool got = false;
      try {
        got = next(input);
      } catch (...) {
        fail(std::current_exception());
        return;
      }
      if (!got) {
        exhausted = true;
        changed.notify_all();
        return;
      }
      const size_t slot = issued++;
      lock.unlock();
      std::optional<Out> out;
      std::exception_ptr error;
      try {
        out.emplace(work(index, input));
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      if (error) {
        fail(error);
        return;
      }
      // A slot is reused only after its result was emitted: issued - emitted < window.
      slots[slot % window] = std::move(out);
      drain(lock);
    }
  };

  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int i = 0; i < threads; ++i) pool.emplace_back(worker, i);
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace hm
