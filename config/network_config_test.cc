#include "config/network_config.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "types/json.h"

namespace ocicni::config {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kPath[] = "/etc/cni/net.d/10-test.conflist";

// ListError parses `json` as a list and returns the error message, failing
// the test if it parsed or the code is not kInvalidArgument.
std::string ListError(const std::string& json,
                      const PluginConfReader& extra = nullptr) {
  absl::StatusOr<NetworkConfigList> list = ParseConfList(json, kPath, extra);
  EXPECT_FALSE(list.ok()) << json;
  if (list.ok()) return "";
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(list.status().message()), StartsWith(kPath));
  return std::string(list.status().message());
}

std::string ConfError(const std::string& json) {
  absl::StatusOr<NetworkConfigList> list = ParseConf(json, "/d/x.conf");
  EXPECT_FALSE(list.ok()) << json;
  if (list.ok()) return "";
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(list.status().message()), StartsWith("/d/x.conf: "));
  return std::string(list.status().message());
}

TEST(ParseConfListTest, ParsesAListAndKeepsTheBytes) {
  const std::string json = R"({
    "cniVersion": "1.0.0",
    "name": "pods",
    "plugins": [
      {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local"}},
      {"type": "portmap", "capabilities": {"portMappings": true}, "x-unknown": 7}
    ]
  })";
  absl::StatusOr<NetworkConfigList> list = ParseConfList(json, kPath);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->name, "pods");
  EXPECT_EQ(list->cni_version, "1.0.0");
  EXPECT_TRUE(list->cni_versions.empty());
  EXPECT_FALSE(list->disable_check);
  EXPECT_FALSE(list->disable_gc);
  EXPECT_FALSE(list->load_only_inlined_plugins);
  EXPECT_EQ(list->path, kPath);
  EXPECT_EQ(list->bytes, json);
  EXPECT_EQ(list->Bytes(), json);
  EXPECT_TRUE(list->converted_bytes.empty());
  ASSERT_EQ(list->plugins.size(), 2u);
  EXPECT_EQ(list->plugins[0].type, "bridge");
  EXPECT_EQ(
      types::WriteJson(list->plugins[0].conf),
      R"({"bridge":"cni0","ipam":{"type":"host-local"},"type":"bridge"})");
  EXPECT_EQ(list->plugins[1].type, "portmap");
  EXPECT_EQ(types::WriteJson(list->plugins[1].conf),
            R"({"capabilities":{"portMappings":true},"type":"portmap",)"
            R"("x-unknown":7})");
}

TEST(ParseConfListTest, Name) {
  EXPECT_THAT(ListError(R"({"cniVersion":"1.0.0","plugins":[{"type":"a"}]})"),
              HasSubstr("missing \"name\""));
  EXPECT_THAT(ListError(R"({"name":7,"plugins":[{"type":"a"}]})"),
              HasSubstr("\"name\" must be a string, not a number"));
  EXPECT_THAT(ListError(R"({"name":"","plugins":[{"type":"a"}]})"),
              HasSubstr("network name is empty"));
  EXPECT_THAT(ListError(R"({"name":"a/b","plugins":[{"type":"a"}]})"),
              HasSubstr("invalid network name \"a/b\""));
  EXPECT_THAT(ListError(R"({"name":"-a","plugins":[{"type":"a"}]})"),
              HasSubstr("must start with a letter or digit"));
}

TEST(ParseConfListTest, BadJson) {
  EXPECT_THAT(ListError(""), HasSubstr("invalid JSON"));
  EXPECT_THAT(ListError("{\"name\":"), HasSubstr("invalid JSON"));
  EXPECT_THAT(ListError("[1,2]"), HasSubstr("expected a JSON object"));
}

TEST(ParseConfListTest, CniVersion) {
  EXPECT_THAT(
      ListError(R"({"name":"n","cniVersion":1,"plugins":[{"type":"a"}]})"),
      HasSubstr("\"cniVersion\" must be a string, not a number"));
  EXPECT_THAT(
      ListError(
          R"({"name":"n","cniVersion":"9.9.9","plugins":[{"type":"a"}]})"),
      HasSubstr("unsupported cniVersion \"9.9.9\""));
  EXPECT_THAT(
      ListError(
          R"({"name":"n","cniVersion":"0.5.0","plugins":[{"type":"a"}]})"),
      HasSubstr("unsupported cniVersion \"0.5.0\""));
  EXPECT_THAT(
      ListError(
          R"({"name":"n","cniVersion":"1.0.0.0","plugins":[{"type":"a"}]})"),
      HasSubstr("too many parts"));

  // Missing means 0.1.0.
  absl::StatusOr<NetworkConfigList> list =
      ParseConfList(R"({"name":"n","plugins":[{"type":"a"}]})", kPath);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->cni_version, "0.1.0");
}

TEST(ParseConfListTest, CniVersionsNegotiation) {
  auto negotiated = [](const std::string& fields) -> std::string {
    absl::StatusOr<NetworkConfigList> list = ParseConfList(
        R"({"name":"n","plugins":[{"type":"a"}],)" + fields + "}", kPath);
    EXPECT_TRUE(list.ok()) << list.status();
    return list.ok() ? list->cni_version : "";
  };
  EXPECT_EQ(
      negotiated(R"("cniVersion":"0.4.0","cniVersions":["1.0.0","0.3.1"])"),
      "1.0.0");
  // Entries newer than this library are dropped.
  EXPECT_EQ(
      negotiated(R"("cniVersion":"1.0.0","cniVersions":["1.1.0","9.0.0"])"),
      "1.1.0");
  // A cniVersion newer than this library takes no part when cniVersions is
  // present.
  EXPECT_EQ(
      negotiated(R"("cniVersion":"2.0.0","cniVersions":["0.4.0","1.0.0"])"),
      "1.0.0");
  EXPECT_EQ(negotiated(R"("cniVersions":["0.3.1"])"), "0.3.1");

  absl::StatusOr<NetworkConfigList> list = ParseConfList(
      R"({"name":"n","cniVersion":"1.0.0","cniVersions":["0.4.0","1.1.0"],)"
      R"("plugins":[{"type":"a"}]})",
      kPath);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->cni_versions, ElementsAre("0.4.0", "1.1.0"));

  EXPECT_THAT(
      ListError(
          R"({"name":"n","cniVersions":"1.0.0","plugins":[{"type":"a"}]})"),
      HasSubstr("\"cniVersions\" must be an array, not a string"));
  EXPECT_THAT(
      ListError(R"({"name":"n","cniVersions":[1],"plugins":[{"type":"a"}]})"),
      HasSubstr("cniVersions[0] must be a string, not a number"));
  EXPECT_THAT(
      ListError(
          R"({"name":"n","cniVersions":["x.y"],"plugins":[{"type":"a"}]})"),
      HasSubstr("cniVersions: invalid version \"x.y\""));
  EXPECT_THAT(
      ListError(R"({"name":"n","cniVersion":"9.0.0","cniVersions":["9.1.0"],)"
                R"("plugins":[{"type":"a"}]})"),
      HasSubstr("unsupported cniVersion \"9.0.0\""));
}

TEST(ParseConfListTest, Flags) {
  absl::StatusOr<NetworkConfigList> list =
      ParseConfList(R"({"name":"n","cniVersion":"1.1.0","disableCheck":true,)"
                    R"("disableGC":"TRUE","loadOnlyInlinedPlugins":"False",)"
                    R"("plugins":[{"type":"a"}]})",
                    kPath);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->disable_check);
  EXPECT_TRUE(list->disable_gc);
  EXPECT_FALSE(list->load_only_inlined_plugins);

  list = ParseConfList(
      R"({"name":"n","disableCheck":"tRuE","disableGC":false,)"
      R"("loadOnlyInlinedPlugins":true,"plugins":[{"type":"a"}]})",
      kPath);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->disable_check);
  EXPECT_FALSE(list->disable_gc);
  EXPECT_TRUE(list->load_only_inlined_plugins);

  for (const char* key :
       {"disableCheck", "disableGC", "loadOnlyInlinedPlugins"}) {
    std::string k = key;
    EXPECT_THAT(ListError(R"({"name":"n","plugins":[{"type":"a"}],")" + k +
                          R"(":"yes"})"),
                AllOf(HasSubstr("invalid value \"yes\""), HasSubstr(k)));
    EXPECT_THAT(
        ListError(R"({"name":"n","plugins":[{"type":"a"}],")" + k + R"(":1})"),
        AllOf(HasSubstr("\"" + k + "\" must be a bool"),
              HasSubstr("not a number")));
  }
}

TEST(ParseConfListTest, Plugins) {
  EXPECT_THAT(ListError(R"({"name":"n","plugins":[]})"),
              HasSubstr("\"plugins\" is empty"));
  EXPECT_THAT(ListError(R"({"name":"n","plugins":{"type":"a"}})"),
              HasSubstr("\"plugins\" must be an array, not an object"));
  EXPECT_THAT(ListError(R"({"name":"n","plugins":null})"),
              HasSubstr("\"plugins\" must be an array, not null"));
  EXPECT_THAT(ListError(R"({"name":"n","plugins":[{"type":"a"},"b"]})"),
              HasSubstr("plugins[1]: must be an object, not a string"));
  EXPECT_THAT(ListError(R"({"name":"n","plugins":[{"type":"a"},{"x":1}]})"),
              HasSubstr("plugins[1]: missing \"type\""));
  EXPECT_THAT(ListError(R"({"name":"n","plugins":[{"type":true}]})"),
              HasSubstr("plugins[0]: \"type\" must be a string, not a bool"));
  EXPECT_THAT(ListError(R"({"name":"n","plugins":[{"type":"../../bin/sh"}]})"),
              HasSubstr("plugins[0]: invalid plugin type"));
  EXPECT_THAT(ListError(R"({"name":"n","plugins":[{"type":""}]})"),
              HasSubstr("plugins[0]: "));
}

TEST(ParseConfListTest, NoPluginsAtAll) {
  EXPECT_THAT(ListError(R"({"name":"n","cniVersion":"1.0.0"})"),
              HasSubstr("no plugin configs found"));
  EXPECT_THAT(
      ListError(R"({"name":"n","loadOnlyInlinedPlugins":true})"),
      HasSubstr(
          "\"loadOnlyInlinedPlugins\" is true but there is no \"plugins\""));
}

TEST(ParseConfListTest, ExtraPluginsAreAppendedUnlessOnlyInlined) {
  std::vector<std::string> asked;
  PluginConfReader extra =
      [&](absl::string_view name) -> absl::StatusOr<std::vector<PluginConfig>> {
    asked.emplace_back(name);
    PluginConfig p;
    p.type = "tuning";
    return std::vector<PluginConfig>{p};
  };

  absl::StatusOr<NetworkConfigList> list =
      ParseConfList(R"({"name":"n","plugins":[{"type":"a"}]})", kPath, extra);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->plugins.size(), 2u);
  EXPECT_EQ(list->plugins[0].type, "a");
  EXPECT_EQ(list->plugins[1].type, "tuning");
  EXPECT_THAT(asked, ElementsAre("n"));

  // Without inlined plugins, the extra ones make the list.
  list = ParseConfList(R"({"name":"m"})", kPath, extra);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->plugins.size(), 1u);
  EXPECT_EQ(list->plugins[0].type, "tuning");

  asked.clear();
  list = ParseConfList(
      R"({"name":"n","loadOnlyInlinedPlugins":true,"plugins":[{"type":"a"}]})",
      kPath, extra);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->plugins.size(), 1u);
  EXPECT_TRUE(asked.empty());

  PluginConfReader failing =
      [](absl::string_view) -> absl::StatusOr<std::vector<PluginConfig>> {
    return absl::PermissionDeniedError("/d/n/1.conf: permission denied");
  };
  list =
      ParseConfList(R"({"name":"n","plugins":[{"type":"a"}]})", kPath, failing);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(list.status().message(),
            std::string(kPath) + ": /d/n/1.conf: permission denied");
}

TEST(ParseConfTest, UpConvertsToAOnePluginList) {
  const std::string json = R"({
    "cniVersion": "0.4.0", "name": "single", "type": "bridge",
    "ipam": {"type": "host-local", "subnet": "10.1.0.0/16"}, "mtu": 1500
  })";
  absl::StatusOr<NetworkConfigList> list = ParseConf(json, "/d/x.conf");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->name, "single");
  EXPECT_EQ(list->cni_version, "0.4.0");
  EXPECT_EQ(list->bytes, json);
  EXPECT_EQ(list->path, "/d/x.conf");
  ASSERT_EQ(list->plugins.size(), 1u);
  EXPECT_EQ(list->plugins[0].type, "bridge");
  EXPECT_EQ(list->plugins[0].conf.fields().at("mtu").number_value(), 1500);
  // What libcni's ConfListFromConf would produce (Go's json.Marshal of a
  // map: sorted keys, no whitespace).
  EXPECT_EQ(list->Bytes(),
            R"({"cniVersion":"0.4.0","name":"single","plugins":[{"cniVersion":)"
            R"("0.4.0","ipam":{"subnet":"10.1.0.0/16","type":"host-local"},)"
            R"("mtu":1500,"name":"single","type":"bridge"}]})");
  // And that parses back as a list.
  absl::StatusOr<NetworkConfigList> again = ParseConfList(list->Bytes(), "x");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->plugins[0].type, "bridge");
}

TEST(ParseConfTest, MissingCniVersionIsKeptEmptyInTheSynthesizedList) {
  absl::StatusOr<NetworkConfigList> list =
      ParseConf(R"({"name":"n","type":"a"})", "/d/x.conf");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->cni_version, "0.1.0");
  EXPECT_EQ(
      list->Bytes(),
      R"({"cniVersion":"","name":"n","plugins":[{"name":"n","type":"a"}]})");
}

TEST(ParseConfTest, Errors) {
  EXPECT_THAT(ConfError(R"({"type":"a"})"), HasSubstr("missing \"name\""));
  EXPECT_THAT(ConfError(R"({"name":"n","cniVersion":"3.0.0","type":"a"})"),
              HasSubstr("unsupported cniVersion"));
  EXPECT_THAT(ConfError(R"({"name":"n","type":"a/b"})"),
              HasSubstr("invalid plugin type"));
  EXPECT_THAT(ConfError("nope"), HasSubstr("invalid JSON"));
}

TEST(ParseConfTest, MissingTypeSuggestsAConflist) {
  // A list saved as .conf.
  EXPECT_THAT(
      ConfError(
          R"({"name":"n","cniVersion":"1.0.0","plugins":[{"type":"a"}]})"),
      AllOf(HasSubstr("missing \"type\""),
            HasSubstr("network configuration list saved under the wrong "
                      "extension"),
            HasSubstr(".conflist")));
  EXPECT_THAT(ConfError(R"({"name":"n"})"),
              AllOf(HasSubstr("missing \"type\""), HasSubstr(".conflist")));
}

TEST(ParsePluginConfTest, Works) {
  absl::StatusOr<PluginConfig> p =
      ParsePluginConf(R"({"type":"tuning","sysctl":{}})", "/d/n/1.conf");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->type, "tuning");
  EXPECT_EQ(types::WriteJson(p->conf), R"({"sysctl":{},"type":"tuning"})");

  p = ParsePluginConf(R"({"sysctl":{}})", "/d/n/1.conf");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "/d/n/1.conf: missing \"type\"");
}

}  // namespace
}  // namespace ocicni::config
