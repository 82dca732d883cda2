#include "ocicni/ocicni.h"

#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "exec/cni_error.h"
#include "ocicni/failure.h"
#include "ocicni/plugin_impl.h"
#include "types/result.h"

namespace ocicni {
namespace {

PodNetwork SeedPod(const std::string& netns_path,
                   const std::string& pod_namespace,
                   const std::string& pod_name,
                   const std::string& container_id) {
  PodNetwork pod;
  pod.netns = netns_path;
  pod.namespace_ = pod_namespace;
  pod.name = pod_name;
  pod.id = container_id;
  return pod;
}

}  // namespace

absl::Status WithFailure(absl::Status status, absl::string_view network,
                         absl::string_view plugin) {
  if (status.ok() || status.GetPayload(kFailurePayloadUrl).has_value()) {
    return status;
  }
  status.SetPayload(
      kFailurePayloadUrl,
      absl::Cord(absl::StrCat(network, std::string(1, '\0'), plugin)));
  return status;
}

std::optional<Failure> FailureOf(const absl::Status& status) {
  auto payload = status.GetPayload(kFailurePayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  std::pair<std::string, std::string> parts =
      absl::StrSplit(std::string(*payload), absl::MaxSplits('\0', 1));
  return Failure{parts.first, parts.second};
}

std::optional<types::Error> CniErrorOf(const absl::Status& status) {
  return exec::CniErrorFromStatus(status);
}

absl::Status CNIPlugin::SetUpPod(const std::string& netns_path,
                                 const std::string& pod_namespace,
                                 const std::string& pod_name,
                                 const std::string& container_id) {
  return SetUpPod(SeedPod(netns_path, pod_namespace, pod_name, container_id),
                  CallOptions())
      .status();
}

absl::Status CNIPlugin::TearDownPod(const std::string& netns_path,
                                    const std::string& pod_namespace,
                                    const std::string& pod_name,
                                    const std::string& container_id) {
  PodNetwork pod = SeedPod(netns_path, pod_namespace, pod_name, container_id);
  // The seed tore down the default network on eth0.
  std::string def = GetDefaultNetworkName();
  if (!def.empty()) pod.networks.push_back({def, kDefaultInterfaceName});
  return TearDownPod(pod, CallOptions());
}

absl::StatusOr<std::string> CNIPlugin::GetContainerNetworkStatus(
    const std::string& netns_path, const std::string& pod_namespace,
    const std::string& pod_name, const std::string& container_id) {
  OCICNI_ASSIGN_OR_RETURN(std::vector<NetResult> results,
                          GetPodNetworkStatus(SeedPod(netns_path, pod_namespace,
                                                      pod_name, container_id),
                                              CallOptions()));
  std::string v6;
  for (const NetResult& r : results) {
    OCICNI_ASSIGN_OR_RETURN(types::Result current,
                            types::ConvertResult(r.result, "1.1.0"));
    for (const types::IPConfig& ip : current.ips()) {
      std::string address = ip.address().substr(0, ip.address().find('/'));
      if (types::IPFamily(address) == 4) return address;
      if (v6.empty()) v6 = address;
    }
  }
  if (!v6.empty()) return v6;
  return absl::NotFoundError(absl::StrCat("container ", container_id,
                                          " has no IP address on ",
                                          kDefaultInterfaceName));
}

absl::StatusOr<std::unique_ptr<CNIPlugin>> InitCNI(const Options& options) {
  return internal::NewPlugin(options, internal::Deps());
}

absl::StatusOr<std::unique_ptr<CNIPlugin>> InitCNI(
    const std::string& conf_dir, std::vector<std::string> plugin_dirs) {
  Options options;
  options.conf_dirs = {conf_dir};
  if (!plugin_dirs.empty()) options.plugin_dirs = std::move(plugin_dirs);
  return InitCNI(options);
}

}  // namespace ocicni
