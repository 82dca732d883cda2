// Fuzzes a plugin's VERSION output (DecodeVersionInfo) and the version
// strings inside it (Version::Parse, NegotiateVersion).
//
// Properties checked:
//   - an accepted VERSION output has a cniVersion and at least one supported
//     version, each of which parses; a parsed version prints (ToString) to a
//     string that parses back to the same version;
//   - negotiating the reported cniVersion against the supported versions
//     succeeds, and picks either the cniVersion or one of the list's entries
//     that is not newer than kCurrentVersion.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/check.h"
#include "types/cni.pb.h"
#include "types/version.h"

namespace ocicni::fuzz {
namespace {

using types::Version;

// CheckVersion checks the ToString/Parse round trip of one version string.
void CheckVersion(absl::string_view text) {
  absl::StatusOr<Version> version = Version::Parse(text);
  if (!version.ok()) return;
  const std::string printed = version->ToString();
  absl::StatusOr<Version> again = Version::Parse(printed);
  OCICNI_FUZZ_CHECK(again.ok() && *again == *version,
                    absl::StrCat("\"", text, "\" printed as \"", printed,
                                 "\" does not read back"));
}

}  // namespace
}  // namespace ocicni::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ::ocicni::types::Version;
  const absl::string_view output(reinterpret_cast<const char*>(data), size);

  ocicni::fuzz::CheckVersion(output);
  absl::StatusOr<ocicni::types::VersionInfo> info =
      ocicni::types::DecodeVersionInfo(output, "fuzz");
  if (!info.ok()) return 0;

  OCICNI_FUZZ_CHECK(!info->cni_version().empty(), info->DebugString());
  OCICNI_FUZZ_CHECK(!info->supported_versions().empty(), info->DebugString());
  ocicni::fuzz::CheckVersion(info->cni_version());
  for (const std::string& v : info->supported_versions()) {
    OCICNI_FUZZ_CHECK(Version::Parse(v).ok(), v);
    ocicni::fuzz::CheckVersion(v);
  }

  const std::vector<std::string> versions(info->supported_versions().begin(),
                                          info->supported_versions().end());
  absl::StatusOr<std::string> chosen =
      ocicni::types::NegotiateVersion(info->cni_version(), versions);
  OCICNI_FUZZ_CHECK(chosen.ok(), absl::StrCat(info->DebugString(), "\n",
                                              chosen.status().ToString()));
  if (*chosen != info->cni_version()) {
    OCICNI_FUZZ_CHECK(
        std::find(versions.begin(), versions.end(), *chosen) != versions.end(),
        absl::StrCat("negotiated \"", *chosen, "\" is not offered"));
    OCICNI_FUZZ_CHECK(*Version::Parse(*chosen) <=
                          *Version::Parse(ocicni::types::kCurrentVersion),
                      absl::StrCat("negotiated \"", *chosen,
                                   "\" is newer than this library"));
  }
  return 0;
}
