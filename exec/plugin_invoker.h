// PluginInvoker: the real Invoker, which runs plugin binaries per the CNI
// spec through a Spawner (PosixSpawner by default).
//
// The plugin's environment is the runtime's environment (captured once, when
// the invoker is made, or injected through Options) without any CNI_COMMAND,
// CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS or CNI_PATH it had,
// followed by those six set for this call: each appears exactly once, and
// CNI_PATH is always set (the plugin dirs joined with ':'). Other CNI_*
// variables of the runtime (e.g. CNI_NETNS_OVERRIDE, which the Go plugin
// framework honours) pass through unchanged.
//
// Output is decoded per the spec: exit 0 means success (stdout is the
// result for ADD and VERSION and ignored otherwise; stderr goes to VLOG(1));
// a non-zero exit means failure, described by the CNI error JSON on stdout,
// else by the stderr text, else as "no error message".
//
// A plugin given by type is found with FindPlugin, and the binary found is
// remembered per (type, search path), so later calls skip the stat() and
// access() of that binary. Calls still behave as if FindPlugin ran before
// each of them, without any time-to-live:
//   * a binary installed in a dir before the remembered one wins: each call
//     stat()s "<dir>/<type>" in those earlier dirs (none at all when the
//     binary is in the first dir, the usual case) and anything there sends
//     the call back to FindPlugin;
//   * a remembered binary that was removed, lost its execute permission or
//     was replaced by something that cannot run fails at exec, before it
//     runs (IsExecFailure): the call then runs FindPlugin again and runs the
//     binary found, once, if it is another one; when FindPlugin fails, its
//     error is the call's, just as without the memory;
//   * a binary replaced in place is simply exec'd as the new file.
// Requests with `plugin_path` set bypass all this.
//
//   auto invoker = std::make_unique<PluginInvoker>();  // PosixSpawner inside
//   OCICNI_ASSIGN_OR_RETURN(std::string result, invoker->Invoke(request));
//
// Thread-safe; many Invokes may run in parallel. A mutex guards the memory
// of found binaries only for lookups, never while a plugin runs.
#ifndef OCICNI_EXEC_PLUGIN_INVOKER_H_
#define OCICNI_EXEC_PLUGIN_INVOKER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "exec/invoker.h"
#include "exec/spawner.h"

namespace ocicni::exec {

class PluginInvoker final : public Invoker {
 public:
  struct Options {
    // The runtime's environment as "KEY=VALUE" entries; unset = this
    // process's environment at construction.
    std::optional<std::vector<std::string>> environment;
    size_t stdout_cap = kDefaultStdoutCap;
    size_t stderr_cap = kDefaultStderrCap;
  };

  // PluginInvoker with a PosixSpawner.
  PluginInvoker();
  explicit PluginInvoker(Options options);
  // PluginInvoker running plugins through `spawner` (e.g. a fake in tests).
  PluginInvoker(std::unique_ptr<Spawner> spawner, Options options);

  // Invoke: see Invoker::Invoke for the contract and the status codes.
  absl::StatusOr<std::string> Invoke(const InvokeRequest& request) override;

 private:
  // Found is a binary FindPlugin found, and the candidates in the dirs
  // before its own (see above).
  struct Found {
    std::string path;
    std::vector<std::string> earlier;
  };

  // Remembered returns the binary remembered under `key` when no earlier
  // candidate has appeared since; else nullptr.
  std::shared_ptr<const Found> Remembered(const std::string& key);
  // Find runs FindPlugin and remembers (or forgets) its answer under `key`.
  // Errors as FindPlugin's, with the call named.
  absl::StatusOr<std::string> Find(const InvokeRequest& request,
                                   const std::vector<std::string>& search,
                                   const std::string& key);

  const std::unique_ptr<Spawner> spawner_;
  const Options options_;
  // options_.environment (or the process's) without the six CNI_* variables,
  // shared by every run.
  const std::shared_ptr<const std::vector<std::string>> base_env_;

  absl::Mutex mu_;
  // Found binaries by type and search path (FoundKey), at most
  // kMaxRemembered (then forgotten all at once).
  absl::flat_hash_map<std::string, std::shared_ptr<const Found>> found_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace ocicni::exec

#endif  // OCICNI_EXEC_PLUGIN_INVOKER_H_
