// CNI spec versions: parsing, comparison, negotiation, VERSION output.
//
//   OCICNI_ASSIGN_OR_RETURN(Version v, Version::Parse("0.4.0"));
//   if (v >= Version{1, 1, 0}) { /* GC and STATUS exist */ }
//
//   // cniVersion "1.0.0" with cniVersions ["1.0.0", "1.1.0", "2.0.0"]
//   // negotiates to "1.1.0" (2.0.0 is newer than this library knows).
//   OCICNI_ASSIGN_OR_RETURN(std::string chosen,
//                           NegotiateVersion("1.0.0", versions));
#ifndef OCICNI_TYPES_VERSION_H_
#define OCICNI_TYPES_VERSION_H_

#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "types/cni.pb.h"

namespace ocicni::types {

// The newest spec version this library speaks.
inline constexpr absl::string_view kCurrentVersion = "1.1.0";

// Every version this library can read and produce, oldest first.
inline constexpr absl::string_view kSupportedVersions[] = {
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};

// Version is a parsed major.minor.patch.
struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;

  // Parse reads "X", "X.Y" or "X.Y.Z" (non-negative decimal numbers). An
  // empty string means "0.1.0", as the spec says for a missing cniVersion.
  // Errors: kInvalidArgument for four or more parts or a bad number.
  static absl::StatusOr<Version> Parse(absl::string_view text);

  std::string ToString() const;

  friend bool operator<(const Version& a, const Version& b) {
    return std::tie(a.major, a.minor, a.patch) <
           std::tie(b.major, b.minor, b.patch);
  }
  friend bool operator==(const Version& a, const Version& b) {
    return std::tie(a.major, a.minor, a.patch) ==
           std::tie(b.major, b.minor, b.patch);
  }
  friend bool operator!=(const Version& a, const Version& b) {
    return !(a == b);
  }
  friend bool operator>(const Version& a, const Version& b) { return b < a; }
  friend bool operator<=(const Version& a, const Version& b) {
    return !(b < a);
  }
  friend bool operator>=(const Version& a, const Version& b) {
    return !(a < b);
  }
};

// IsSupportedVersion reports whether `version` is exactly one of
// kSupportedVersions (after the empty = 0.1.0 rule).
bool IsSupportedVersion(absl::string_view version);

// VersionAtLeast reports whether `version` >= `minimum`; an unparsable
// version is treated as not at least anything.
bool VersionAtLeast(absl::string_view version, absl::string_view minimum);

// NegotiateVersion picks the version a network config runs at: the entries of
// `cni_versions` newer than kCurrentVersion are dropped, `cni_version` is
// merged in (unless it is newer too and `cni_versions` is not empty), and the
// highest remains. Errors: kInvalidArgument naming the
// first invalid entry.
absl::StatusOr<std::string> NegotiateVersion(
    absl::string_view cni_version, absl::Span<const std::string> cni_versions);

// DecodeVersionInfo reads a plugin's VERSION output. A 0.1.0/0.2.0 plugin may
// print only {"cniVersion": "0.2.0"}: that means ["0.1.0", "0.2.0"] (and
// "0.1.0" alone means ["0.1.0"]). Errors: kInvalidArgument naming `plugin`
// for bad JSON, a missing cniVersion or an invalid version entry.
absl::StatusOr<VersionInfo> DecodeVersionInfo(absl::string_view output,
                                              absl::string_view plugin);

// LegacyVersionInfo is what a plugin that does not know the VERSION command
// supports: 0.1.0 only.
VersionInfo LegacyVersionInfo();

// SupportsVersion reports whether `info` lists `version`.
bool SupportsVersion(const VersionInfo& info, absl::string_view version);

}  // namespace ocicni::types

#endif  // OCICNI_TYPES_VERSION_H_
