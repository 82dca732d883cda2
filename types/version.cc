#include "types/version.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "types/json.h"

namespace ocicni::types {
namespace {

bool ParsePart(absl::string_view part, int* out) {
  if (part.empty() || part.size() > 9) return false;
  int n = 0;
  for (char c : part) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');  // At most 9 digits: no overflow.
  }
  *out = n;
  return true;
}

// ParseShort reads what Version::Parse reads from "" and from the common
// one-digit "X.Y.Z" (every supported version), without its error handling;
// false for anything else. VersionAtLeast runs several times per result.
bool ParseShort(absl::string_view text, Version* out) {
  if (text.empty()) {
    *out = Version{0, 1, 0};
    return true;
  }
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.size() != 5 || !digit(text[0]) || text[1] != '.' ||
      !digit(text[2]) || text[3] != '.' || !digit(text[4])) {
    return false;
  }
  *out = Version{text[0] - '0', text[2] - '0', text[4] - '0'};
  return true;
}

}  // namespace

absl::StatusOr<Version> Version::Parse(absl::string_view text) {
  if (text.empty()) return Version{0, 1, 0};
  // Split on '.' in place (this runs several times per result decoded).
  if (std::count(text.begin(), text.end(), '.') > 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid version \"", text, "\": too many parts (at most 3)"));
  }
  int numbers[3] = {0, 0, 0};
  absl::string_view rest = text;
  for (int i = 0;; ++i) {
    const size_t dot = rest.find('.');
    const absl::string_view part = rest.substr(0, dot);
    if (!ParsePart(part, &numbers[i])) {
      return absl::InvalidArgumentError(absl::StrCat("invalid version \"", text,
                                                     "\": part \"", part,
                                                     "\" is not a number"));
    }
    if (dot == absl::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return Version{numbers[0], numbers[1], numbers[2]};
}

std::string Version::ToString() const {
  return absl::StrCat(major, ".", minor, ".", patch);
}

bool IsSupportedVersion(absl::string_view version) {
  if (version.empty()) version = "0.1.0";
  return std::find(std::begin(kSupportedVersions), std::end(kSupportedVersions),
                   version) != std::end(kSupportedVersions);
}

bool VersionAtLeast(absl::string_view version, absl::string_view minimum) {
  Version v, m;
  if (ParseShort(version, &v) && ParseShort(minimum, &m)) return v >= m;
  absl::StatusOr<Version> pv = Version::Parse(version);
  absl::StatusOr<Version> pm = Version::Parse(minimum);
  return pv.ok() && pm.ok() && *pv >= *pm;
}

absl::StatusOr<std::string> NegotiateVersion(
    absl::string_view cni_version, absl::Span<const std::string> cni_versions) {
  absl::StatusOr<Version> best = Version::Parse(cni_version);
  if (!best.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cniVersion: ", best.status().message()));
  }
  std::string chosen(cni_version.empty() ? "0.1.0" : cni_version);
  const Version current = *Version::Parse(kCurrentVersion);
  // As in libcni, with cniVersions a cniVersion newer than this library takes
  // no part (it stays the answer only if no entry is usable).
  bool have_best = cni_versions.empty() || *best <= current;
  for (const std::string& entry : cni_versions) {
    absl::StatusOr<Version> v = Version::Parse(entry);
    if (!v.ok() || entry.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cniVersions: ",
                       v.ok() ? "empty version string" : v.status().message()));
    }
    if (*v > current) continue;
    if (!have_best || *v > *best) {
      have_best = true;
      best = *v;
      chosen = entry;
    }
  }
  return chosen;
}

absl::StatusOr<VersionInfo> DecodeVersionInfo(absl::string_view output,
                                              absl::string_view plugin) {
  std::string what = absl::StrCat("plugin ", plugin, " VERSION output");
  VersionInfo info;
  absl::Status status = ParseMessageInto(output, what, &info);
  if (!status.ok()) return status;
  if (info.cni_version().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": missing cniVersion"));
  }
  absl::StatusOr<Version> reported = Version::Parse(info.cni_version());
  if (!reported.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", reported.status().message()));
  }
  if (info.supported_versions().empty()) {
    // Plugins of spec 0.1.0/0.2.0 report only their own version.
    if (*reported == Version{0, 2, 0}) {
      info.add_supported_versions("0.1.0");
      info.add_supported_versions("0.2.0");
    } else {
      info.add_supported_versions(info.cni_version());
    }
  }
  for (const std::string& v : info.supported_versions()) {
    absl::StatusOr<Version> parsed = Version::Parse(v);
    if (!parsed.ok() || v.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": supportedVersions: ",
          parsed.ok() ? "empty version string" : parsed.status().message()));
    }
  }
  return info;
}

VersionInfo LegacyVersionInfo() {
  VersionInfo info;
  info.set_cni_version("0.1.0");
  info.add_supported_versions("0.1.0");
  return info;
}

bool SupportsVersion(const VersionInfo& info, absl::string_view version) {
  if (version.empty()) version = "0.1.0";
  for (const std::string& v : info.supported_versions()) {
    if (v == version) return true;
  }
  return false;
}

}  // namespace ocicni::types
