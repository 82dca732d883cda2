// Running code inside a network namespace without moving the caller.
//
// setns(2) changes the namespace of the calling thread only. RunIn therefore
// starts a dedicated, short-lived thread, moves that thread into the
// namespace, runs `fn` there, joins it and hands back fn's result. The
// calling thread (and every other thread of the process) never changes
// namespace, so a caller cannot leak a thread into a pod namespace.
//
//   OCICNI_ASSIGN_OR_RETURN(NetNS pod, NetNS::Open(path));
//   absl::StatusOr<int> fd = RunIn(pod, [] {
//     return ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
//   });
//
// Sockets created inside fn stay bound to the namespace and can be used from
// any thread afterwards; that is how the libnl inspector (netlink.h) works.
#ifndef OCICNI_NETNS_RUN_IN_H_
#define OCICNI_NETNS_RUN_IN_H_

#include <optional>
#include <type_traits>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "netns/netns.h"

namespace ocicni::netns {
namespace netns_internal {

// RunOnNamespaceThread runs `fn` on a new thread that first enters `ns` with
// setns(fd, CLONE_NEWNET), and joins it. If setns fails, fn is not run and
// the setns error is returned (as ErrnoToStatus, naming ns.path()).
absl::Status RunOnNamespaceThread(const NetNS& ns,
                                  absl::FunctionRef<void()> fn);

// RunInResult maps fn's return type R to RunIn's return type.
template <typename R>
struct RunInResult {
  using Type = absl::StatusOr<R>;
};
template <>
struct RunInResult<void> {
  using Type = absl::Status;
};
template <>
struct RunInResult<absl::Status> {
  using Type = absl::Status;
};
template <typename T>
struct RunInResult<absl::StatusOr<T>> {
  using Type = absl::StatusOr<T>;
};

}  // namespace netns_internal

// RunIn runs `fn()` inside network namespace `ns` on a dedicated thread and
// returns its outcome:
//   fn returns void               -> absl::Status (OK once fn ran)
//   fn returns absl::Status       -> that status
//   fn returns absl::StatusOr<T>  -> that StatusOr<T>
//   fn returns T                  -> absl::StatusOr<T> holding the value
// Entering the namespace can fail before fn runs; the status then names the
// namespace path: kPermissionDenied without CAP_SYS_ADMIN, kInvalidArgument
// if the fd is not a network namespace, other codes as ErrnoToStatus.
//
// Blocks until fn returns. Thread-safe: concurrent calls each get their own
// thread. fn runs on another thread, so it must not depend on the caller's
// thread-local state; it may block, and may itself call RunIn. The calling
// thread's namespace is never changed. Creating the thread aborts the process
// if the system cannot create threads (std::thread).
template <typename Fn>
typename netns_internal::RunInResult<std::invoke_result_t<Fn&>>::Type RunIn(
    const NetNS& ns, Fn&& fn) {
  using R = std::invoke_result_t<Fn&>;
  if constexpr (std::is_void_v<R>) {
    return netns_internal::RunOnNamespaceThread(ns, fn);
  } else {
    std::optional<R> result;
    absl::Status entered = netns_internal::RunOnNamespaceThread(
        ns, [&result, &fn] { result.emplace(fn()); });
    if (!entered.ok()) return entered;
    return *std::move(result);
  }
}

}  // namespace ocicni::netns

#endif  // OCICNI_NETNS_RUN_IN_H_
