// CNI_ARGS: the "K=V;K=V" string handed to plugins.
//
// The format has no escaping, so a value containing ';' (or a key containing
// ';' or '=') cannot be represented; such input is rejected rather than sent
// corrupted. A value may contain '=': readers split each pair on its first
// '='.
//
//   exec::PodArgs pod{"default", "web-0", "0123abcd", "uid-1"};
//   OCICNI_ASSIGN_OR_RETURN(std::string args,
//                           exec::BuildCniArgs(pod, {{"IP", "10.0.0.5"}}));
//   // "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;
//   //  K8S_POD_INFRA_CONTAINER_ID=0123abcd;K8S_POD_UID=uid-1;IP=10.0.0.5"
#ifndef OCICNI_EXEC_CNI_ARGS_H_
#define OCICNI_EXEC_CNI_ARGS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ocicni::exec {

// PodArgs are the Kubernetes identifiers every plugin call carries.
struct PodArgs {
  std::string pod_namespace;
  std::string pod_name;
  std::string infra_container_id;
  std::string pod_uid;
};

using CniArgPair = std::pair<std::string, std::string>;

// BuildCniArgs returns "IgnoreUnknown=1;K8S_POD_NAMESPACE=<ns>;
// K8S_POD_NAME=<name>;K8S_POD_INFRA_CONTAINER_ID=<id>;K8S_POD_UID=<uid>"
// followed by `extra` in order (the runtime's inherited pairs, then IP=,
// MAC=, as the Go ocicni orders them). Pod fields are always present, even
// when empty.
// Errors: kInvalidArgument naming the key when a key is empty or contains
// ';', '=' or NUL, or a value contains ';' or NUL.
// Thread-safe; no I/O.
absl::StatusOr<std::string> BuildCniArgs(const PodArgs& pod,
                                         absl::Span<const CniArgPair> extra);

// ParseCniArgs splits a CNI_ARGS string into pairs, each on its first '='.
// Empty items (";;", a trailing ';') are skipped.
// Errors: kInvalidArgument for an item without '=' or with an empty key.
absl::StatusOr<std::vector<CniArgPair>> ParseCniArgs(absl::string_view args);

}  // namespace ocicni::exec

#endif  // OCICNI_EXEC_CNI_ARGS_H_
