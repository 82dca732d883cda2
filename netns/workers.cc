#include "netns/workers.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace ocicni::netns {

absl::StatusOr<UniqueFd> WorkerThread::SocketIn(const NetNS& ns, int domain,
                                                int type, int protocol) {
  if (!home_status_.ok()) return home_status_;
  if (setns_(ns.fd(), CLONE_NEWNET) != 0) {
    return ErrnoToStatus(
        errno, absl::StrCat("setns into network namespace ", ns.path()));
  }
  UniqueFd fd(::socket(domain, type | SOCK_CLOEXEC, protocol));
  const int socket_errno = errno;
  if (setns_(home_fd_, CLONE_NEWNET) != 0) {
    // setns into a namespace does not depend on where the thread is, so the
    // rest of this job still works; but the thread must not wait for other
    // jobs in a pod's namespace.
    retired_ = true;
    LOG(WARNING) << "namespace worker cannot return from network namespace "
                 << ns.path() << " (" << std::strerror(errno)
                 << "); retiring the thread";
  }
  if (!fd.valid()) {
    return ErrnoToStatus(
        socket_errno, absl::StrCat("socket in network namespace ", ns.path()));
  }
  return fd;
}

NamespaceWorkers::NamespaceWorkers(int max_threads)
    : NamespaceWorkers(max_threads,
                       [](int fd, int nstype) { return ::setns(fd, nstype); }) {
}

NamespaceWorkers::NamespaceWorkers(int max_threads,
                                   std::function<int(int fd, int nstype)> setns)
    : max_threads_(max_threads > 0 ? max_threads : 1),
      setns_(std::move(setns)),
      home_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
  if (!home_.valid()) {
    home_error_ = absl::InternalError(absl::StrCat(
        "namespace workers cannot open their home network namespace: ",
        ErrnoToStatus(errno, "/proc/thread-self/ns/net").message()));
  }
}

NamespaceWorkers::~NamespaceWorkers() {
  absl::flat_hash_map<std::thread::id, std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    threads = std::move(threads_);
  }
  for (auto& [id, thread] : threads) thread.join();
}

void NamespaceWorkers::Post(Job job) {
  std::vector<std::thread> to_join;
  {
    absl::MutexLock lock(&mu_);
    jobs_.push_back(std::move(job));
    MaybeStartThreadLocked(&to_join);
  }
  for (std::thread& t : to_join) t.join();
}

void NamespaceWorkers::MaybeStartThreadLocked(
    std::vector<std::thread>* to_join) {
  if (stopping_ || static_cast<size_t>(idle_) >= jobs_.size() ||
      live_ >= max_threads_) {
    return;
  }
  for (const std::thread::id& id : exited_) {
    auto it = threads_.find(id);
    if (it == threads_.end()) continue;
    to_join->push_back(std::move(it->second));
    threads_.erase(it);
  }
  exited_.clear();
  ++live_;
  std::thread thread([this] { Loop(); });
  const std::thread::id id = thread.get_id();
  threads_.emplace(id, std::move(thread));
}

void NamespaceWorkers::Loop() {
  ::pthread_setname_np(::pthread_self(), "ocicni-netns");
  // Go home first: the thread that started this one may be a retiring
  // worker, still in a pod's namespace.
  absl::Status home_status = home_error_;
  if (home_status.ok() && setns_(home_.get(), CLONE_NEWNET) != 0) {
    home_status = absl::InternalError(absl::StrCat(
        "namespace worker cannot enter its home network namespace: ",
        std::strerror(errno)));
  }
  WorkerThread self(home_.get(), home_status, setns_);
  // A thread that could not get home serves one job (with errors) and goes.
  if (!home_status.ok()) self.retired_ = true;

  std::vector<std::thread> to_join;
  mu_.Lock();
  for (;;) {
    ++idle_;
    mu_.Await(absl::Condition(
        +[](NamespaceWorkers* w) { return !w->jobs_.empty() || w->stopping_; },
        this));
    --idle_;
    if (jobs_.empty()) break;  // Stopping, and nothing left to run.
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    mu_.Unlock();
    job(self);
    job = nullptr;  // Its captures (fds, say) go before the next wait.
    mu_.Lock();
    if (self.retired_) {
      // Hand the queue to a new thread (it goes home before any job).
      --live_;
      MaybeStartThreadLocked(&to_join);
      exited_.push_back(std::this_thread::get_id());
      mu_.Unlock();
      for (std::thread& t : to_join) t.join();
      return;
    }
  }
  --live_;
  exited_.push_back(std::this_thread::get_id());
  mu_.Unlock();
}

}  // namespace ocicni::netns
