#include "exec/invoker.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "exec/cni_error.h"
#include "types/version.h"

namespace ocicni::exec {

absl::string_view CommandName(Command command) {
  switch (command) {
    case Command::kAdd:
      return "ADD";
    case Command::kDel:
      return "DEL";
    case Command::kCheck:
      return "CHECK";
    case Command::kGc:
      return "GC";
    case Command::kStatus:
      return "STATUS";
    case Command::kVersion:
      return "VERSION";
  }
  return "UNKNOWN";
}

absl::StatusOr<types::VersionInfo> GetVersionInfo(Invoker& invoker,
                                                  InvokeRequest request) {
  request.command = Command::kVersion;
  request.container_id.clear();
  request.netns = "dummy";
  request.ifname = "dummy";
  request.cni_args.clear();
  request.cni_path = "dummy";
  request.stdin_data =
      absl::StrCat("{\"cniVersion\":\"", types::kCurrentVersion, "\"}");
  absl::StatusOr<std::string> output = invoker.Invoke(request);
  if (!output.ok()) {
    std::optional<types::Error> error = CniErrorFromStatus(output.status());
    if (error.has_value() && error->details().empty() &&
        absl::StripAsciiWhitespace(error->msg()) == kUnknownVersionCommandMsg) {
      return types::LegacyVersionInfo();
    }
    return output.status();
  }
  std::string plugin =
      request.plugin_path.empty() ? request.plugin_type : request.plugin_path;
  return types::DecodeVersionInfo(*output, absl::StrCat("\"", plugin, "\""));
}

}  // namespace ocicni::exec
