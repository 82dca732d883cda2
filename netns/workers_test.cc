// Kernel tests of NamespaceWorkers on pod namespaces under $TEST_TMPDIR.
// Root only (block-network).
#include "netns/workers.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "base/posix.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/netns.h"
#include "netns/test_util.h"

namespace ocicni::netns {
namespace {

using ::ocicni::testutil::PodNamespaceTest;
using ::ocicni::testutil::StatusIs;
using ::testing::HasSubstr;

// InNamespace reports whether socket `fd` belongs to namespace `ns`.
absl::StatusOr<bool> InNamespace(int fd, const NetNS& ns) {
  UniqueFd ns_fd(::ioctl(fd, SIOCGSKNS));
  if (!ns_fd.valid()) return ErrnoToStatus(errno, "SIOCGSKNS");
  struct stat a, b;
  if (::fstat(ns_fd.get(), &a) != 0 || ::fstat(ns.fd(), &b) != 0) {
    return ErrnoToStatus(errno, "fstat");
  }
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// OnThisThread is what a job saw of its worker thread.
struct OnThisThread {
  std::thread::id id;
  bool at_home = false;  // in the test's namespace
  bool in_pod = false;
};

class WorkersTest : public PodNamespaceTest {
 protected:
  // Look reports where the calling (worker) thread is.
  OnThisThread Look() {
    OnThisThread seen;
    seen.id = std::this_thread::get_id();
    absl::StatusOr<NetNS> now = NetNS::Current();
    EXPECT_TRUE(now.ok()) << now.status();
    if (now.ok()) {
      seen.at_home = *SameNamespace(*now, self());
      seen.in_pod = *SameNamespace(*now, pod());
    }
    return seen;
  }

  // Run posts `fn` to `workers` and waits for it.
  template <typename Fn>
  void Run(NamespaceWorkers& workers, Fn fn) {
    absl::Notification done;
    workers.Post([&](WorkerThread& worker) {
      fn(worker);
      done.Notify();
    });
    done.WaitForNotification();
  }
};

TEST_F(WorkersTest, SocketIsMadeInTheNamespaceAndTheWorkerGoesHome) {
  NamespaceWorkers workers(1);
  absl::StatusOr<UniqueFd> fd;
  OnThisThread after;
  Run(workers, [&](WorkerThread& worker) {
    fd = worker.SocketIn(pod(), AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    after = Look();
  });
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_TRUE(after.at_home);
  EXPECT_NE(after.id, std::this_thread::get_id());
  absl::StatusOr<bool> in_pod = InNamespace(fd->get(), pod());
  ASSERT_TRUE(in_pod.ok()) << in_pod.status();
  EXPECT_TRUE(*in_pod);
  EXPECT_NE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_F(WorkersTest, ThreadsPersistUpToTheLimit) {
  NamespaceWorkers workers(2);
  // Batch posts 16 jobs at once and returns the threads that ran them.
  auto batch = [&] {
    absl::Mutex mu;
    std::set<std::thread::id> ids;
    absl::BlockingCounter left(16);
    for (int i = 0; i < 16; ++i) {
      workers.Post([&](WorkerThread& worker) {
        absl::StatusOr<UniqueFd> fd =
            worker.SocketIn(pod(), AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
        EXPECT_TRUE(fd.ok()) << fd.status();
        {
          absl::MutexLock lock(&mu);
          ids.insert(std::this_thread::get_id());
        }
        left.DecrementCount();
      });
    }
    left.Wait();
    absl::MutexLock lock(&mu);
    return ids;
  };
  // Threads that ran jobs, over several batches: were a thread started per
  // batch (or per job), there would be more than two.
  std::set<std::thread::id> all;
  for (int i = 0; i < 4; ++i) {
    std::set<std::thread::id> ran = batch();
    EXPECT_GE(ran.size(), 1u);
    all.insert(ran.begin(), ran.end());
  }
  EXPECT_LE(all.size(), 2u);
}

TEST_F(WorkersTest, EnteringFailsWithTheSetnsErrorAndTheWorkerStays) {
  const int pod_fd = pod().fd();
  NamespaceWorkers workers(1, [pod_fd](int fd, int nstype) {
    if (fd == pod_fd) {
      errno = EPERM;
      return -1;
    }
    return ::setns(fd, nstype);
  });
  absl::StatusOr<UniqueFd> fd;
  OnThisThread first, second;
  Run(workers, [&](WorkerThread& worker) {
    fd = worker.SocketIn(pod(), AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    first = Look();
  });
  EXPECT_THAT(fd, StatusIs(absl::StatusCode::kPermissionDenied,
                           HasSubstr(pod().path())));
  Run(workers, [&](WorkerThread&) { second = Look(); });
  EXPECT_TRUE(first.at_home);
  EXPECT_EQ(first.id, second.id);
}

// A worker stuck in a pod's namespace (setns back failed) serves no other
// job: it hands the queue to a new thread, which goes home first although
// it was started from the pod's namespace.
TEST_F(WorkersTest, AWorkerThatCannotGoHomeIsReplaced) {
  const int pod_fd = pod().fd();
  std::atomic<bool> fail_going_home{false};
  NamespaceWorkers workers(1, [&, pod_fd](int fd, int nstype) {
    if (fd != pod_fd && fail_going_home.exchange(false)) {
      errno = EPERM;
      return -1;
    }
    return ::setns(fd, nstype);
  });
  OnThisThread warm, stuck, next;
  Run(workers, [&](WorkerThread&) { warm = Look(); });

  fail_going_home = true;
  absl::Notification queued, ran_next;
  absl::StatusOr<UniqueFd> fd;
  workers.Post([&](WorkerThread& worker) {
    fd = worker.SocketIn(pod(), AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    stuck = Look();
    queued.WaitForNotification();
  });
  workers.Post([&](WorkerThread&) {
    next = Look();
    ran_next.Notify();
  });
  queued.Notify();
  ran_next.WaitForNotification();

  ASSERT_TRUE(fd.ok()) << fd.status();  // The socket itself is fine.
  EXPECT_TRUE(*InNamespace(fd->get(), pod()));
  EXPECT_EQ(stuck.id, warm.id);
  EXPECT_TRUE(stuck.in_pod);
  EXPECT_NE(next.id, warm.id);
  EXPECT_TRUE(next.at_home);
  EXPECT_FALSE(next.in_pod);
}

TEST_F(WorkersTest, DestructionRunsQueuedJobs) {
  std::atomic<int> ran{0};
  {
    NamespaceWorkers workers(1);
    for (int i = 0; i < 10; ++i) {
      workers.Post([&](WorkerThread&) {
        absl::SleepFor(absl::Milliseconds(1));
        ++ran;
      });
    }
  }
  EXPECT_EQ(ran.load(), 10);
}

}  // namespace
}  // namespace ocicni::netns
