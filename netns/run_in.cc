#include "netns/run_in.h"

#include <sched.h>

#include <cerrno>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/posix.h"
#include "glog/logging.h"

namespace ocicni::netns::netns_internal {

absl::Status RunOnNamespaceThread(const NetNS& ns,
                                  absl::FunctionRef<void()> fn) {
  absl::Status status;
  std::thread worker([&] {
    if (::setns(ns.fd(), CLONE_NEWNET) != 0) {
      status = ErrnoToStatus(
          errno, absl::StrCat("setns into network namespace ", ns.path()));
      return;
    }
    VLOG(2) << "running in network namespace " << ns.path();
    fn();
    // The thread exits here, taking its namespace membership with it.
  });
  worker.join();
  return status;
}

}  // namespace ocicni::netns::netns_internal
