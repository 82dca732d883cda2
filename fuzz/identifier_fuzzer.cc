// Fuzzes identifier validation and CacheFilePath, the guard that keeps a
// hostile network name, container ID or interface name from naming a file
// outside <cacheDir>/results.
//
// The input is split (FuzzedDataProvider) into a cache dir, a network name,
// a container ID, an interface name and a plugin type. Properties checked:
//   - every validator's verdict matches the rule its header states, checked
//     here independently;
//   - an accepted path is <cacheDir>/results/<one file name>, where the file
//     name is not "." or "..", and has no '/' or NUL;
//   - error messages carry no control or non-ASCII bytes (hostile values
//     cannot forge log lines).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/check.h"
#include "fuzzer/FuzzedDataProvider.h"
#include "types/cache.h"
#include "types/validate.h"

namespace ocicni::fuzz {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

// The rule for container IDs and network names: ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$.
bool IsIdentifier(absl::string_view s) {
  if (s.empty() || !IsAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

bool IsInterfaceName(absl::string_view s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  for (char c : s) {
    if (c == '/' || c == ':' || c == '\0' || c == ' ' || c == '\t' ||
        c == '\n' || c == '\v' || c == '\f' || c == '\r') {
      return false;
    }
  }
  return true;
}

bool IsPluginType(absl::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s) {
    if (c == '/' || c == '\\' || c == '\0') return false;
  }
  return true;
}

// CheckVerdict checks that `status` accepts exactly what `expected` says,
// and that a rejection's message is printable ASCII.
void CheckVerdict(const absl::Status& status, bool expected,
                  absl::string_view kind, absl::string_view value) {
  const std::string context =
      absl::StrCat(kind, " of ", value.size(), " bytes: ", status.ToString());
  OCICNI_FUZZ_CHECK(status.ok() == expected, context);
  if (status.ok()) return;
  OCICNI_FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument,
                    context);
  for (char c : status.message()) {
    OCICNI_FUZZ_CHECK(c >= 0x20 && c < 0x7f, context);
  }
}

}  // namespace
}  // namespace ocicni::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ::ocicni::fuzz::CheckVerdict;
  FuzzedDataProvider provider(data, size);
  const std::string cache_dir = provider.ConsumeRandomLengthString(64);
  const std::string network = provider.ConsumeRandomLengthString(64);
  const std::string container_id = provider.ConsumeRandomLengthString(64);
  const std::string ifname = provider.ConsumeRandomLengthString(32);
  const std::string type = provider.ConsumeRemainingBytesAsString();

  const bool network_ok = ocicni::fuzz::IsIdentifier(network);
  const bool id_ok = ocicni::fuzz::IsIdentifier(container_id);
  const bool ifname_ok = ocicni::fuzz::IsInterfaceName(ifname);
  CheckVerdict(ocicni::types::ValidateNetworkName(network), network_ok,
               "network name", network);
  CheckVerdict(ocicni::types::ValidateContainerId(container_id), id_ok,
               "container ID", container_id);
  CheckVerdict(ocicni::types::ValidateInterfaceName(ifname), ifname_ok,
               "interface name", ifname);
  CheckVerdict(ocicni::types::ValidatePluginType(type),
               ocicni::fuzz::IsPluginType(type), "plugin type", type);

  absl::StatusOr<std::string> path =
      ocicni::types::CacheFilePath(cache_dir, network, container_id, ifname);
  CheckVerdict(path.status(),
               !cache_dir.empty() && network_ok && id_ok && ifname_ok,
               "cache file path", path.ok() ? *path : "");
  if (!path.ok()) return 0;

  const std::string results = absl::StrCat(cache_dir, "/results/");
  OCICNI_FUZZ_CHECK(absl::StartsWith(*path, results), *path);
  const absl::string_view file =
      absl::string_view(*path).substr(results.size());
  OCICNI_FUZZ_CHECK(!file.empty() && file != "." && file != "..", *path);
  OCICNI_FUZZ_CHECK(file.find('/') == absl::string_view::npos &&
                        file.find('\0') == absl::string_view::npos,
                    *path);
  return 0;
}
