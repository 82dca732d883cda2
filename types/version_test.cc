#include "types/version.h"

#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ocicni::types {
namespace {

TEST(Version, ParseAndCompare) {
  struct Case {
    const char* text;
    Version want;
  } cases[] = {{"", {0, 1, 0}},           {"0.1.0", {0, 1, 0}},
               {"0.3.1", {0, 3, 1}},      {"1.1.0", {1, 1, 0}},
               {"1", {1, 0, 0}},          {"1.0", {1, 0, 0}},
               {"10.20.30", {10, 20, 30}}};
  for (const auto& c : cases) {
    auto v = Version::Parse(c.text);
    ASSERT_TRUE(v.ok()) << c.text << ": " << v.status();
    EXPECT_EQ(*v, c.want) << c.text;
  }
  EXPECT_LT(*Version::Parse("0.3.1"), *Version::Parse("0.4.0"));
  EXPECT_LT(*Version::Parse("0.4.0"), *Version::Parse("0.10.0"));
  EXPECT_GT(*Version::Parse("1.1.0"), *Version::Parse("1.0.0"));
  EXPECT_EQ(Version::Parse("1.0.0")->ToString(), "1.0.0");
}

TEST(Version, ParseErrors) {
  for (const char* bad : {"1.0.0.0", "a.b.c", "1..0", "1.0.", "-1.0.0",
                          " 1.0.0", "1.0.0-rc1", "v1.0.0", "99999999999"}) {
    auto v = Version::Parse(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_NE(v.status().message().find(bad), std::string::npos)
          << v.status();
    }
  }
  EXPECT_NE(Version::Parse("1.0.0.0").status().message().find("too many"),
            std::string::npos);
  EXPECT_EQ(Version::Parse("a.b.c.").status().message(),
            "invalid version \"a.b.c.\": too many parts (at most 3)");
  EXPECT_EQ(Version::Parse("1..0").status().message(),
            "invalid version \"1..0\": part \"\" is not a number");
  EXPECT_EQ(Version::Parse("1.x").status().message(),
            "invalid version \"1.x\": part \"x\" is not a number");
  EXPECT_EQ(Version::Parse("1.0.").status().message(),
            "invalid version \"1.0.\": part \"\" is not a number");
  EXPECT_EQ(*Version::Parse("007.000000001"), (Version{7, 1, 0}));
}

TEST(Version, Supported) {
  for (absl::string_view v : kSupportedVersions)
    EXPECT_TRUE(IsSupportedVersion(v));
  EXPECT_TRUE(IsSupportedVersion(""));
  EXPECT_FALSE(IsSupportedVersion("0.5.0"));
  EXPECT_FALSE(IsSupportedVersion("1.0"));
  EXPECT_TRUE(VersionAtLeast("0.4.0", "0.4.0"));
  EXPECT_FALSE(VersionAtLeast("0.3.1", "0.4.0"));
  EXPECT_FALSE(VersionAtLeast("junk", "0.1.0"));
}

// VersionAtLeast answers as comparing the parsed versions, whether or not
// the versions are supported ones (which it compares without parsing).
TEST(Version, AtLeastMatchesParsedComparison) {
  std::vector<std::string> versions(std::begin(kSupportedVersions),
                                    std::end(kSupportedVersions));
  for (const char* other : {"", "0", "1", "0.3", "1.0", "1.1", "2.0.0", "0.3.2",
                            "0.10.0", "01.0.0", "1.0.0.0", "junk", "1.x.0"}) {
    versions.push_back(other);
  }
  for (const std::string& a : versions) {
    for (const std::string& b : versions) {
      absl::StatusOr<Version> va = Version::Parse(a);
      absl::StatusOr<Version> vb = Version::Parse(b);
      EXPECT_EQ(VersionAtLeast(a, b), va.ok() && vb.ok() && *va >= *vb)
          << a << " >= " << b;
    }
  }
}

TEST(Version, Negotiate) {
  EXPECT_EQ(*NegotiateVersion("1.0.0", {}), "1.0.0");
  EXPECT_EQ(*NegotiateVersion("", {}), "0.1.0");
  EXPECT_EQ(*NegotiateVersion("1.0.0", {"1.0.0", "1.1.0", "2.0.0"}), "1.1.0");
  EXPECT_EQ(*NegotiateVersion("1.1.0", {"0.4.0", "1.0.0"}), "1.1.0");
  EXPECT_EQ(*NegotiateVersion("0.3.1", {"3.0.0"}), "0.3.1");
  // A cniVersion newer than this library does not win over usable entries.
  EXPECT_EQ(*NegotiateVersion("2.0.0", {"0.4.0", "1.0.0"}), "1.0.0");
  EXPECT_EQ(*NegotiateVersion("2.0.0", {"3.0.0"}), "2.0.0");
  EXPECT_EQ(*NegotiateVersion("2.0.0", {}), "2.0.0");
  auto bad = NegotiateVersion("1.0.0", {"1.0.0", "x.y"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cniVersions"), std::string::npos);
  EXPECT_FALSE(NegotiateVersion("1.0.0", {""}).ok());
  EXPECT_FALSE(NegotiateVersion("1.0.0.0", {}).ok());
}

TEST(Version, DecodeVersionInfo) {
  auto info = DecodeVersionInfo(
      R"({"cniVersion":"1.0.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0"]})",
      "bridge");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(SupportsVersion(*info, "0.4.0"));
  EXPECT_FALSE(SupportsVersion(*info, "1.1.0"));

  auto legacy = DecodeVersionInfo(R"({"cniVersion":"0.2.0"})", "old");
  ASSERT_TRUE(legacy.ok()) << legacy.status();
  EXPECT_EQ(legacy->supported_versions_size(), 2);
  EXPECT_TRUE(SupportsVersion(*legacy, "0.1.0"));
  EXPECT_TRUE(SupportsVersion(*legacy, "0.2.0"));

  auto v010 = DecodeVersionInfo(R"({"cniVersion":"0.1.0"})", "older");
  ASSERT_TRUE(v010.ok());
  EXPECT_TRUE(SupportsVersion(*v010, ""));

  EXPECT_TRUE(SupportsVersion(LegacyVersionInfo(), "0.1.0"));
  EXPECT_FALSE(SupportsVersion(LegacyVersionInfo(), "0.2.0"));

  for (const char* bad : {"", "garbage", "{}", R"({"cniVersion":"1.0.0.0"})",
                          R"({"cniVersion":"1.0.0","supportedVersions":["x"]})",
                          R"({"cniVersion":1})"}) {
    auto r = DecodeVersionInfo(bad, "weird");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("weird"), std::string::npos)
        << r.status();
  }
}

}  // namespace
}  // namespace ocicni::types
