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
//   auto invoker = std::make_unique<PluginInvoker>();  // PosixSpawner inside
//   OCICNI_ASSIGN_OR_RETURN(std::string result, invoker->Invoke(request));
//
// Thread-safe; no locks; many Invokes may run in parallel.
#ifndef OCICNI_EXEC_PLUGIN_INVOKER_H_
#define OCICNI_EXEC_PLUGIN_INVOKER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
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
  const std::unique_ptr<Spawner> spawner_;
  const Options options_;
  // options_.environment (or the process's) without the six CNI_* variables,
  // shared by every run.
  const std::shared_ptr<const std::vector<std::string>> base_env_;
};

}  // namespace ocicni::exec

#endif  // OCICNI_EXEC_PLUGIN_INVOKER_H_
