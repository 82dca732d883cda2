#include "ocicni/pod_locks.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ocicni {
namespace {

TEST(PodLocks, SamePodIsSerialized) {
  PodLocks locks;
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        PodLocks::PodGuard g = locks.LockPod("pod");
        int now = ++inside;
        int seen = max_inside.load();
        while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
        }
        --inside;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(max_inside.load(), 1);
  EXPECT_EQ(locks.ActiveForTest(), 0u);
}

TEST(PodLocks, DifferentPodsRunInParallel) {
  PodLocks locks;
  absl::Notification a_inside, b_inside;
  std::thread a([&] {
    PodLocks::PodGuard g = locks.LockPod("a");
    a_inside.Notify();
    // Waits for b while holding a: only possible if b is not blocked by a.
    EXPECT_TRUE(b_inside.WaitForNotificationWithTimeout(absl::Seconds(30)));
  });
  std::thread b([&] {
    PodLocks::PodGuard g = locks.LockPod("b");
    b_inside.Notify();
    EXPECT_TRUE(a_inside.WaitForNotificationWithTimeout(absl::Seconds(30)));
  });
  a.join();
  b.join();
}

TEST(PodLocks, GCIsExclusiveWithPodOperations) {
  PodLocks locks;
  std::atomic<bool> gc_running{false};
  std::atomic<bool> overlap{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (t == 0 && i % 20 == 0) {
          PodLocks::GCGuard g = locks.LockAll();
          gc_running = true;
          absl::SleepFor(absl::Microseconds(50));
          gc_running = false;
        } else {
          PodLocks::PodGuard g = locks.LockPod(std::to_string(t * 1000 + i));
          if (gc_running) overlap = true;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(overlap.load());
  EXPECT_EQ(locks.ActiveForTest(), 0u);
}

}  // namespace
}  // namespace ocicni
