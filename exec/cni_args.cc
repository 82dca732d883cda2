#include "exec/cni_args.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"

namespace ocicni::exec {
namespace {

std::string Quote(absl::string_view s) {
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, 256)),
                      s.size() > 256 ? "...\"" : "\"");
}

absl::Status CheckPair(absl::string_view key, absl::string_view value) {
  if (key.empty()) {
    return absl::InvalidArgumentError("CNI_ARGS: empty key");
  }
  if (key.find_first_of(absl::string_view(";=\0", 3)) !=
      absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CNI_ARGS: key ", Quote(key), " must not contain ';', '=' or NUL"));
  }
  if (value.find_first_of(absl::string_view(";\0", 2)) !=
      absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CNI_ARGS: value of ", key, " (", Quote(value),
        ") must not contain ';' or NUL: the format has no escaping"));
  }
  return absl::OkStatus();
}

void Append(absl::string_view key, absl::string_view value, std::string* out) {
  absl::StrAppend(out, out->empty() ? "" : ";", key, "=", value);
}

}  // namespace

absl::StatusOr<std::string> BuildCniArgs(const PodArgs& pod,
                                         absl::Span<const CniArgPair> extra) {
  const std::pair<absl::string_view, absl::string_view> fixed[] = {
      {"IgnoreUnknown", "1"},
      {"K8S_POD_NAMESPACE", pod.pod_namespace},
      {"K8S_POD_NAME", pod.pod_name},
      {"K8S_POD_INFRA_CONTAINER_ID", pod.infra_container_id},
      {"K8S_POD_UID", pod.pod_uid},
  };
  std::string out;
  for (const auto& [key, value] : fixed) {
    OCICNI_RETURN_IF_ERROR(CheckPair(key, value));
    Append(key, value, &out);
  }
  for (const auto& [key, value] : extra) {
    OCICNI_RETURN_IF_ERROR(CheckPair(key, value));
    Append(key, value, &out);
  }
  return out;
}

absl::StatusOr<std::vector<CniArgPair>> ParseCniArgs(absl::string_view args) {
  std::vector<CniArgPair> pairs;
  for (absl::string_view item : absl::StrSplit(args, ';', absl::SkipEmpty())) {
    size_t eq = item.find('=');
    if (eq == absl::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CNI_ARGS: invalid item ", Quote(item), ": want KEY=VALUE"));
    }
    pairs.emplace_back(std::string(item.substr(0, eq)),
                       std::string(item.substr(eq + 1)));
  }
  return pairs;
}

}  // namespace ocicni::exec
