// run_ordered: results in input order, bounded in-flight window, exceptions
// from next / work / emit rethrown without hanging.
#include <gtest/gtest.h>

#include <stdio.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ordered_pool.hpp"

namespace {

using namespace std::chrono_literals;

/// Runs fn on another thread and fails (then aborts, rather than hang the
/// whole run) when it does not finish within the limit.
template <typename Fn>
void with_timeout(Fn&& fn, std::chrono::seconds limit = std::chrono::seconds(20)) {
  auto future = std::async(std::launch::async, std::forward<Fn>(fn));
  if (future.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "run_ordered did not finish within " << limit.count() << " s (hang)";
    fprintf(stderr, "run_ordered hung: aborting the test process\n");
    fflush(stderr);
    std::abort();  // the future's destructor would wait forever
  }
  future.get();  // propagates assertion exceptions / unexpected throws
}

uint32_t test_seed() {
  if (const char* s = getenv("HM_TEST_SEED")) return (uint32_t)strtoul(s, nullptr, 10);
  return (uint32_t)std::random_device{}();
}

/// Tracks how many inputs are between next() handing them out and emit()
/// returning, and the largest such number seen.
struct InFlight {
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
  void enter() {
    const int n = ++now;
    int p = peak.load();
    while (n > p && !peak.compare_exchange_weak(p, n)) {
    }
  }
  void leave() { --now; }
};

TEST(OrderedPool, InputOrderWithRandomDelays) {
  const uint32_t seed = test_seed();
  printf("OrderedPool seed: %u (set HM_TEST_SEED to reproduce)\n", seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  constexpr int kItems = 48;
  for (int threads : {1, 2, 8}) {
    for (size_t window = 1; window <= 16; ++window) {
      SCOPED_TRACE("threads " + std::to_string(threads) + " window " + std::to_string(window));
      std::vector<int> delay_us(kItems);
      for (auto& d : delay_us) d = (int)(rng() % 400);
      std::vector<int> emitted;
      InFlight flight;
      std::atomic<int> worked{0};
      std::atomic<bool> bad_thread{false};
      with_timeout([&] {
        int counter = 0;
        hm::run_ordered<int, long>(
            threads, window,
            [&](int& in) {
              if (counter == kItems) return false;
              in = counter++;
              flight.enter();
              return true;
            },
            [&](int thread, int& in) -> long {
              if (thread < 0 || thread >= threads) bad_thread = true;
              std::this_thread::sleep_for(std::chrono::microseconds(delay_us[in]));
              ++worked;
              return 1000L * in + 7;
            },
            [&](long& out) {
              emitted.push_back((int)((out - 7) / 1000));
              EXPECT_EQ(out % 1000, 7);
              flight.leave();
            });
      });
      std::vector<int> expected(kItems);
      for (int i = 0; i < kItems; ++i) expected[i] = i;
      EXPECT_EQ(emitted, expected);
      EXPECT_EQ(worked.load(), kItems);
      EXPECT_FALSE(bad_thread.load()) << "thread index out of range";
      EXPECT_EQ(flight.now.load(), 0);
      EXPECT_LE(flight.peak.load(), (int)window) << "more results in flight than the window";
      EXPECT_GE(flight.peak.load(), 1);
    }
  }
}

TEST(OrderedPool, WindowIsReachedWhenEmitIsSlow) {
  // A slow consumer lets the workers fill the whole window, never more.
  for (int threads : {2, 8}) {
    for (size_t window : {1u, 3u, 8u, 16u}) {
      SCOPED_TRACE("threads " + std::to_string(threads) + " window " + std::to_string(window));
      InFlight flight;
      std::vector<int> emitted;
      with_timeout([&] {
        int counter = 0;
        hm::run_ordered<int, int>(
            threads, window,
            [&](int& in) {
              if (counter == 40) return false;
              in = counter++;
              flight.enter();
              return true;
            },
            [&](int, int& in) { return in; },
            [&](int& out) {
              std::this_thread::sleep_for(200us);
              emitted.push_back(out);
              flight.leave();
            });
      });
      ASSERT_EQ(emitted.size(), 40u);
      for (int i = 0; i < 40; ++i) EXPECT_EQ(emitted[i], i);
      EXPECT_LE(flight.peak.load(), (int)window);
    }
  }
}

TEST(OrderedPool, ZeroInputs) {
  for (int threads : {1, 2, 8}) {
    std::atomic<int> next_calls{0}, work_calls{0}, emit_calls{0};
    with_timeout([&] {
      hm::run_ordered<int, int>(
          threads, 4,
          [&](int&) {
            ++next_calls;
            return false;
          },
          [&](int, int& in) {
            ++work_calls;
            return in;
          },
          [&](int&) { ++emit_calls; });
    });
    EXPECT_GE(next_calls.load(), 1);
    EXPECT_EQ(work_calls.load(), 0);
    EXPECT_EQ(emit_calls.load(), 0);
  }
}

TEST(OrderedPool, DegenerateThreadAndWindowCounts) {
  for (int threads : {0, -3}) {
    for (size_t window : {0u, 1u}) {
      std::vector<int> emitted;
      with_timeout([&] {
        int counter = 0;
        hm::run_ordered<int, int>(
            threads, window,
            [&](int& in) {
              if (counter == 10) return false;
              in = counter++;
              return true;
            },
            [&](int, int& in) { return in * 2; }, [&](int& out) { emitted.push_back(out); });
      });
      ASSERT_EQ(emitted.size(), 10u);
      for (int i = 0; i < 10; ++i) EXPECT_EQ(emitted[i], 2 * i);
    }
  }
}

TEST(OrderedPool, MoveOnlyResults) {
  std::vector<int> emitted;
  with_timeout([&] {
    int counter = 0;
    hm::run_ordered<int, std::unique_ptr<int>>(
        4, 6,
        [&](int& in) {
          if (counter == 100) return false;
          in = counter++;
          return true;
        },
        [&](int, int& in) { return std::make_unique<int>(in); },
        [&](std::unique_ptr<int>& out) { emitted.push_back(*out); });
  });
  ASSERT_EQ(emitted.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(emitted[i], i);
}

struct Boom : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class ThrowIn { Next, Work, Emit };

void check_exception(ThrowIn where, int threads, size_t window, int fail_at, uint32_t seed) {
  SCOPED_TRACE(std::string(where == ThrowIn::Next ? "next" : where == ThrowIn::Work ? "work" : "emit") +
               " threads " + std::to_string(threads) + " window " + std::to_string(window) +
               " fail_at " + std::to_string(fail_at));
  constexpr int kItems = 60;
  std::mt19937 rng(seed);
  std::vector<int> delay_us(kItems);
  for (auto& d : delay_us) d = (int)(rng() % 200);
  std::vector<int> emitted;
  bool caught = false;
  std::string message;
  with_timeout([&] {
    int counter = 0;
    try {
      hm::run_ordered<int, int>(
          threads, window,
          [&](int& in) {
            if (counter == kItems) return false;
            if (where == ThrowIn::Next && counter == fail_at) throw Boom("next failed");
            in = counter++;
            return true;
          },
          [&](int, int& in) {
            std::this_thread::sleep_for(std::chrono::microseconds(delay_us[in]));
            if (where == ThrowIn::Work && in == fail_at) throw Boom("work failed");
            return in;
          },
          [&](int& out) {
            emitted.push_back(out);
            if (where == ThrowIn::Emit && out == fail_at) throw Boom("emit failed");
          });
    } catch (const Boom& e) {
      caught = true;
      message = e.what();
    }
  });
  ASSERT_TRUE(caught) << "the exception was not rethrown from run_ordered";
  EXPECT_EQ(message, where == ThrowIn::Next   ? "next failed"
                     : where == ThrowIn::Work ? "work failed"
                                              : "emit failed");
  // Whatever was emitted is a prefix of the input, in order.
  for (size_t i = 0; i < emitted.size(); ++i) ASSERT_EQ(emitted[i], (int)i);
  if (where == ThrowIn::Emit) EXPECT_EQ(emitted.size(), (size_t)fail_at + 1) << "emit after a throw";
  else EXPECT_LE(emitted.size(), (size_t)fail_at) << "the failed item or later ones were emitted";
}

TEST(OrderedPool, ExceptionsAreRethrownAndNothingHangs) {
  const uint32_t seed = test_seed();
  printf("OrderedPool seed: %u (set HM_TEST_SEED to reproduce)\n", seed);
  for (ThrowIn where : {ThrowIn::Next, ThrowIn::Work, ThrowIn::Emit})
    for (int threads : {1, 2, 8})
      for (size_t window : {1u, 2u, 5u, 16u})
        for (int fail_at : {0, 1, 17, 59}) check_exception(where, threads, window, fail_at, seed);
}

TEST(OrderedPool, EveryWorkItemThrowing) {
  for (int threads : {1, 2, 8}) {
    bool caught = false;
    with_timeout([&] {
      int counter = 0;
      try {
        hm::run_ordered<int, int>(
            threads, 16,
            [&](int& in) {
              in = counter++;
              return true;  // endless input: only the failure can stop it
            },
            [&](int, int&) -> int { throw Boom("always"); }, [&](int&) {});
      } catch (const Boom&) {
        caught = true;
      }
    });
    EXPECT_TRUE(caught);
  }
}

}  // namespace
