// NamespaceWorkers: a few persistent threads that create sockets inside other
// network namespaces, for callers that do this often (one lo bring-up per
// pod) and cannot afford a thread start each time.
//
// setns(2) changes the calling thread only, and the caller's threads must
// never change namespace (DESIGN.md). RunIn (run_in.h) therefore starts a
// dedicated thread per call. NamespaceWorkers keeps up to `max_threads`
// threads alive instead. They all live in one "home" namespace: the one of
// the thread that constructed the NamespaceWorkers, opened once then from
// /proc/thread-self/ns/net (each new thread enters it first, so it does not
// matter which thread starts it). A job posted to them gets a WorkerThread,
// whose SocketIn enters the target namespace only for the socket(2) call and
// then returns home. A socket stays bound to the namespace it was created
// in, so the job (or any thread it hands the fd to) uses it from there
// without switching. A worker that cannot return home is never reused: it
// exits after its job, and another thread takes over the queue.
//
//   NamespaceWorkers workers(/*max_threads=*/2);
//   workers.Post([&pod](WorkerThread& worker) {
//     absl::StatusOr<UniqueFd> rtnl =
//         worker.SocketIn(pod, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
//     ... send requests on *rtnl ...
//   });
#ifndef OCICNI_NETNS_WORKERS_H_
#define OCICNI_NETNS_WORKERS_H_

#include <deque>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/posix.h"
#include "netns/netns.h"

namespace ocicni::netns {

// WorkerThread is what a job posted to NamespaceWorkers runs with: the
// worker thread it is running on. Only that thread uses it.
class WorkerThread {
 public:
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  // SocketIn returns socket(domain, type | SOCK_CLOEXEC, protocol) created
  // inside `ns`: the thread enters `ns`, creates the socket and goes back
  // home. Errors: entering `ns` as RunIn (the status names ns.path():
  // kPermissionDenied without CAP_SYS_ADMIN, others as ErrnoToStatus);
  // socket(2) errors as ErrnoToStatus; kInternal when the home namespace
  // could not be opened or entered. If going back fails, the socket is
  // still returned (it is fine) and the thread retires after the current
  // job. Blocks for two setns(2) and a socket(2).
  absl::StatusOr<UniqueFd> SocketIn(const NetNS& ns, int domain, int type,
                                    int protocol);

 private:
  friend class NamespaceWorkers;
  using SetnsFn = std::function<int(int fd, int nstype)>;

  WorkerThread(int home_fd, absl::Status home_status, const SetnsFn& setns)
      : home_fd_(home_fd),
        home_status_(std::move(home_status)),
        setns_(setns) {}

  const int home_fd_;
  // Not OK when the thread is not known to be at home.
  const absl::Status home_status_;
  const SetnsFn& setns_;
  // Set when the thread may be left in another namespace.
  bool retired_ = false;
};

// NamespaceWorkers runs posted jobs on up to `max_threads` persistent
// threads, started on demand (none before the first Post). Thread-safe.
class NamespaceWorkers {
 public:
  // Job is work for a worker thread; it runs in the home namespace and must
  // not change namespace except through WorkerThread::SocketIn.
  using Job = absl::AnyInvocable<void(WorkerThread&)>;

  // NamespaceWorkers opens the calling thread's namespace as the workers'
  // home; if that fails, every SocketIn reports it. Starts no thread.
  explicit NamespaceWorkers(int max_threads);
  // The destructor lets the threads run the jobs still queued, then joins
  // them.
  ~NamespaceWorkers();

  NamespaceWorkers(const NamespaceWorkers&) = delete;
  NamespaceWorkers& operator=(const NamespaceWorkers&) = delete;

  // Post queues `job` and returns at once; a worker runs it (jobs start in
  // the order posted). Starting a thread aborts the process if the system
  // cannot create threads (std::thread), as RunIn does.
  void Post(Job job);

  // ForTest: the workers call `setns` instead of setns(2), so that tests can
  // make entering or leaving a namespace fail.
  NamespaceWorkers(int max_threads,
                   std::function<int(int fd, int nstype)> setns);

 private:
  void Loop();
  // MaybeStartThreadLocked starts a worker thread when queued jobs outnumber
  // idle threads and there is room, and hands threads that exited to the
  // caller, to join once it has released mu_.
  void MaybeStartThreadLocked(std::vector<std::thread>* to_join)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int max_threads_;
  const WorkerThread::SetnsFn setns_;
  UniqueFd home_;
  absl::Status home_error_;

  absl::Mutex mu_;
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Threads that are running Loop(), and those of them waiting for a job.
  int live_ ABSL_GUARDED_BY(mu_) = 0;
  int idle_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::thread::id, std::thread> threads_
      ABSL_GUARDED_BY(mu_);
  // Threads that left Loop() (retired) and wait to be joined.
  std::vector<std::thread::id> exited_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ocicni::netns

#endif  // OCICNI_NETNS_WORKERS_H_
