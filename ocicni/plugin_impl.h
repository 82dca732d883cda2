// The implementation behind InitCNI, with its dependencies injectable so
// tests can run it against fakes (exec::Invoker, NetnsOps, a DirWatcher).
// Not part of the public interface.
#ifndef OCICNI_OCICNI_PLUGIN_IMPL_H_
#define OCICNI_OCICNI_PLUGIN_IMPL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/dir_watcher.h"
#include "exec/invoker.h"
#include "ocicni/netns_ops.h"
#include "ocicni/ocicni.h"

namespace ocicni::internal {

// Deps are the OS boundaries of a CNIPlugin. Unset members get the real
// implementation.
struct Deps {
  std::unique_ptr<exec::Invoker> invoker;
  std::unique_ptr<NetnsOps> netns_ops;
  // Used when Options::watch is set.
  std::unique_ptr<config::DirWatcher> watcher;
  // The runtime's CNI_ARGS, passed on to plugins after the pod's own pairs;
  // unset = the CNI_ARGS of this process's environment.
  std::optional<std::string> inherited_cni_args;
};

absl::StatusOr<std::unique_ptr<CNIPlugin>> NewPlugin(const Options& options,
                                                     Deps deps);

}  // namespace ocicni::internal

#endif  // OCICNI_OCICNI_PLUGIN_IMPL_H_
