// Fuzzes CNI_ARGS building and parsing (exec/cni_args.h). CNI_ARGS has no
// escaping, so the builder must refuse anything that would read back
// differently.
//
// The input is split (FuzzedDataProvider) into pod fields and extra pairs,
// and is also parsed whole as a CNI_ARGS string. Properties checked:
//   - BuildCniArgs accepts exactly the pairs its header allows, and what it
//     builds parses back (ParseCniArgs) to exactly the pairs given, in order;
//   - every pair ParseCniArgs returns has a non-empty key without ';' or
//     '=', and a value without ';'; pairs without NUL rebuild to a string
//     that parses to the same pairs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "exec/cni_args.h"
#include "fuzz/check.h"
#include "fuzzer/FuzzedDataProvider.h"

namespace ocicni::fuzz {
namespace {

using exec::CniArgPair;

bool Has(absl::string_view s, absl::string_view chars) {
  return s.find_first_of(chars) != absl::string_view::npos;
}

// Allowed is the rule BuildCniArgs documents for one pair.
bool Allowed(absl::string_view key, absl::string_view value) {
  return !key.empty() && !Has(key, absl::string_view(";=\0", 3)) &&
         !Has(value, absl::string_view(";\0", 2));
}

std::string Describe(const std::vector<CniArgPair>& pairs) {
  std::string out;
  for (const auto& [key, value] : pairs) {
    absl::StrAppend(&out, "[", key, "]=[", value, "] ");
  }
  return out;
}

// CheckRoundTrip builds CNI_ARGS from `pod` and `extra` and checks the
// builder's verdict and that the result parses back to the same pairs.
void CheckRoundTrip(const exec::PodArgs& pod,
                    const std::vector<CniArgPair>& extra) {
  std::vector<CniArgPair> expected = {
      {"IgnoreUnknown", "1"},
      {"K8S_POD_NAMESPACE", pod.pod_namespace},
      {"K8S_POD_NAME", pod.pod_name},
      {"K8S_POD_INFRA_CONTAINER_ID", pod.infra_container_id},
      {"K8S_POD_UID", pod.pod_uid},
  };
  expected.insert(expected.end(), extra.begin(), extra.end());
  bool allowed = true;
  for (const auto& [key, value] : expected) allowed &= Allowed(key, value);

  absl::StatusOr<std::string> built = exec::BuildCniArgs(pod, extra);
  OCICNI_FUZZ_CHECK(
      built.ok() == allowed,
      absl::StrCat(Describe(expected), "\n", built.status().ToString()));
  if (!built.ok()) return;
  absl::StatusOr<std::vector<CniArgPair>> parsed = exec::ParseCniArgs(*built);
  OCICNI_FUZZ_CHECK(parsed.ok(),
                    absl::StrCat(*built, "\n", parsed.status().ToString()));
  OCICNI_FUZZ_CHECK(
      *parsed == expected,
      absl::StrCat("built: ", *built, "\nparsed: ", Describe(*parsed),
                   "\nwant:   ", Describe(expected)));
}

}  // namespace
}  // namespace ocicni::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ::ocicni::exec::CniArgPair;
  const absl::string_view whole(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<std::vector<CniArgPair>> parsed =
      ocicni::exec::ParseCniArgs(whole);
  if (parsed.ok()) {
    bool has_nul = false;
    for (const auto& [key, value] : *parsed) {
      OCICNI_FUZZ_CHECK(!key.empty() && !ocicni::fuzz::Has(key, ";=") &&
                            !ocicni::fuzz::Has(value, ";"),
                        ocicni::fuzz::Describe(*parsed));
      has_nul |= ocicni::fuzz::Has(key, absl::string_view("\0", 1)) ||
                 ocicni::fuzz::Has(value, absl::string_view("\0", 1));
    }
    if (!has_nul) ocicni::fuzz::CheckRoundTrip({}, *parsed);
  }

  FuzzedDataProvider provider(data, size);
  ocicni::exec::PodArgs pod;
  pod.pod_namespace = provider.ConsumeRandomLengthString(64);
  pod.pod_name = provider.ConsumeRandomLengthString(64);
  pod.infra_container_id = provider.ConsumeRandomLengthString(64);
  pod.pod_uid = provider.ConsumeRandomLengthString(64);
  std::vector<CniArgPair> extra;
  while (provider.remaining_bytes() > 0 && extra.size() < 8) {
    std::string key = provider.ConsumeRandomLengthString(32);
    std::string value = provider.ConsumeRandomLengthString(64);
    extra.emplace_back(std::move(key), std::move(value));
  }
  ocicni::fuzz::CheckRoundTrip(pod, extra);
  return 0;
}
