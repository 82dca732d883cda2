#include "types/result.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "types/json.h"
#include "types/version.h"

namespace ocicni::types {
namespace {

// Outputs as real plugins print them.
const std::map<std::string, std::string>& PluginOutputs() {
  static const auto* outputs = new std::map<std::string, std::string>{
      // bridge + host-local at 1.0.0 (Debian's plugins, pretty-printed).
      {"bridge-1.0.0", R"({
    "cniVersion": "1.0.0",
    "interfaces": [
        {"name": "cni0", "mac": "8e:a9:e9:9f:35:8b"},
        {"name": "veth436e0600", "mac": "ae:3f:ba:d4:0e:aa"},
        {"name": "eth0", "mac": "e6:85:5d:4b:98:2e", "sandbox": "/var/run/netns/pod"}
    ],
    "ips": [
        {"interface": 2, "address": "10.250.0.2/24", "gateway": "10.250.0.1"},
        {"interface": 2, "address": "fd00:10::2/64", "gateway": "fd00:10::1"}
    ],
    "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0", "gw": "fd00:10::1"}],
    "dns": {}
})"},
      // host-local alone (IPAM result: no interfaces) at 0.3.1.
      {"host-local-0.3.1", R"({
    "cniVersion": "0.3.1",
    "ips": [{"version": "4", "address": "10.1.0.5/16", "gateway": "10.1.0.1"}],
    "routes": [{"dst": "0.0.0.0/0", "gw": "10.1.0.1"}],
    "dns": {"nameservers": ["10.1.0.10"], "search": ["svc.local"]}
})"},
      // ptp at 0.4.0.
      {"ptp-0.4.0", R"({
    "cniVersion": "0.4.0",
    "interfaces": [
        {"name": "veth1d2c3b4a", "mac": "3a:1b:2c:3d:4e:5f"},
        {"name": "eth0", "mac": "7e:8f:90:a1:b2:c3", "sandbox": "/proc/42/ns/net"}
    ],
    "ips": [{"version": "4", "interface": 1, "address": "10.2.0.7/24", "gateway": "10.2.0.1"}],
    "routes": [{"dst": "0.0.0.0/0"}],
    "dns": {}
})"},
      // A 0.2.0 plugin (flannel era).
      {"legacy-0.2.0", R"({
    "cniVersion": "0.2.0",
    "ip4": {"ip": "10.3.0.9/24", "gateway": "10.3.0.1",
            "routes": [{"dst": "0.0.0.0/0", "gw": "10.3.0.1"}]},
    "ip6": {"ip": "fd00:3::9/64", "routes": [{"dst": "::/0"}]},
    "dns": {"domain": "cluster.local"}
})"},
      // 1.1.0 with the fields older versions lack.
      {"vhost-1.1.0", R"({
    "cniVersion": "1.1.0",
    "interfaces": [{"name": "eth0", "mtu": 9000, "socketPath": "/run/vhost.sock",
                    "pciID": "0000:00:1f.6", "sandbox": "/run/netns/p"}],
    "ips": [{"interface": 0, "address": "192.168.5.3/24"}],
    "routes": [{"dst": "192.168.0.0/16", "mtu": 1400, "table": 0, "scope": 253}]
})"},
  };
  return *outputs;
}

std::string Convert(const std::string& input, const std::string& to) {
  absl::StatusOr<Result> r = DecodeResult(input, "", "test");
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return "";
  absl::StatusOr<Result> c = ConvertResult(*r, to);
  if (!c.ok()) return std::string(c.status().message());
  return WriteMessage(*c);
}

TEST(Result, ExpectedConversions) {
  const auto& in = PluginOutputs();
  struct Case {
    std::string input, to, want;
  } cases
      [] =
          {
              {"bridge-1.0.0", "1.1.0",
               R"({"cniVersion":"1.1.0","interfaces":[{"mac":"8e:a9:e9:9f:35:8b","name":"cni0"},{"mac":"ae:3f:ba:d4:0e:aa","name":"veth436e0600"},{"mac":"e6:85:5d:4b:98:2e","name":"eth0","sandbox":"/var/run/netns/pod"}],"ips":[{"address":"10.250.0.2/24","gateway":"10.250.0.1","interface":2},{"address":"fd00:10::2/64","gateway":"fd00:10::1","interface":2}],"routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0","gw":"fd00:10::1"}]})"},
              {"bridge-1.0.0", "0.4.0",
               R"({"cniVersion":"0.4.0","interfaces":[{"mac":"8e:a9:e9:9f:35:8b","name":"cni0"},{"mac":"ae:3f:ba:d4:0e:aa","name":"veth436e0600"},{"mac":"e6:85:5d:4b:98:2e","name":"eth0","sandbox":"/var/run/netns/pod"}],"ips":[{"address":"10.250.0.2/24","gateway":"10.250.0.1","interface":2,"version":"4"},{"address":"fd00:10::2/64","gateway":"fd00:10::1","interface":2,"version":"6"}],"routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0","gw":"fd00:10::1"}]})"},
              {"bridge-1.0.0", "0.2.0",
               R"({"cniVersion":"0.2.0","ip4":{"gateway":"10.250.0.1","ip":"10.250.0.2/24","routes":[{"dst":"0.0.0.0/0"}]},"ip6":{"gateway":"fd00:10::1","ip":"fd00:10::2/64","routes":[{"dst":"::/0","gw":"fd00:10::1"}]}})"},
              {"host-local-0.3.1", "1.0.0",
               R"({"cniVersion":"1.0.0","dns":{"nameservers":["10.1.0.10"],"search":["svc.local"]},"ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}]})"},
              {"host-local-0.3.1", "0.1.0",
               R"({"cniVersion":"0.1.0","dns":{"nameservers":["10.1.0.10"],"search":["svc.local"]},"ip4":{"gateway":"10.1.0.1","ip":"10.1.0.5/16","routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}]}})"},
              {"ptp-0.4.0", "1.0.0",
               R"({"cniVersion":"1.0.0","interfaces":[{"mac":"3a:1b:2c:3d:4e:5f","name":"veth1d2c3b4a"},{"mac":"7e:8f:90:a1:b2:c3","name":"eth0","sandbox":"/proc/42/ns/net"}],"ips":[{"address":"10.2.0.7/24","gateway":"10.2.0.1","interface":1}],"routes":[{"dst":"0.0.0.0/0"}]})"},
              {"ptp-0.4.0", "0.3.0",
               R"({"cniVersion":"0.3.0","interfaces":[{"mac":"3a:1b:2c:3d:4e:5f","name":"veth1d2c3b4a"},{"mac":"7e:8f:90:a1:b2:c3","name":"eth0","sandbox":"/proc/42/ns/net"}],"ips":[{"address":"10.2.0.7/24","gateway":"10.2.0.1","interface":1,"version":"4"}],"routes":[{"dst":"0.0.0.0/0"}]})"},
              {"legacy-0.2.0", "0.4.0",
               R"({"cniVersion":"0.4.0","dns":{"domain":"cluster.local"},"ips":[{"address":"10.3.0.9/24","gateway":"10.3.0.1","version":"4"},{"address":"fd00:3::9/64","version":"6"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.3.0.1"},{"dst":"::/0"}]})"},
              {"legacy-0.2.0", "1.1.0",
               R"({"cniVersion":"1.1.0","dns":{"domain":"cluster.local"},"ips":[{"address":"10.3.0.9/24","gateway":"10.3.0.1"},{"address":"fd00:3::9/64"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.3.0.1"},{"dst":"::/0"}]})"},
              {"legacy-0.2.0", "0.1.0",
               R"({"cniVersion":"0.1.0","dns":{"domain":"cluster.local"},"ip4":{"gateway":"10.3.0.1","ip":"10.3.0.9/24","routes":[{"dst":"0.0.0.0/0","gw":"10.3.0.1"}]},"ip6":{"ip":"fd00:3::9/64","routes":[{"dst":"::/0"}]}})"},
              {"vhost-1.1.0", "1.0.0",
               R"({"cniVersion":"1.0.0","interfaces":[{"mtu":9000,"name":"eth0","pciID":"0000:00:1f.6","sandbox":"/run/netns/p","socketPath":"/run/vhost.sock"}],"ips":[{"address":"192.168.5.3/24","interface":0}],"routes":[{"dst":"192.168.0.0/16","mtu":1400,"scope":253,"table":0}]})"},
              {"vhost-1.1.0", "0.4.0",
               R"({"cniVersion":"0.4.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/p"}],"ips":[{"address":"192.168.5.3/24","interface":0,"version":"4"}],"routes":[{"dst":"192.168.0.0/16","mtu":1400,"scope":253,"table":0}]})"},
              {"vhost-1.1.0", "0.2.0",
               R"({"cniVersion":"0.2.0","ip4":{"ip":"192.168.5.3/24","routes":[{"dst":"192.168.0.0/16"}]}})"},
          };
  for (const Case& c : cases) {
    EXPECT_EQ(Convert(in.at(c.input), c.to), c.want)
        << c.input << " -> " << c.to;
  }
}

// Every plugin output converts to every version, and the output has the shape
// of that version and decodes again.
TEST(Result, WholeMatrixHasTargetShape) {
  for (const auto& [name, output] : PluginOutputs()) {
    absl::StatusOr<Result> decoded = DecodeResult(output, "", name);
    ASSERT_TRUE(decoded.ok()) << name << ": " << decoded.status();
    for (absl::string_view to : kSupportedVersions) {
      absl::StatusOr<Result> c = ConvertResult(*decoded, to);
      ASSERT_TRUE(c.ok()) << name << " -> " << to << ": " << c.status();
      EXPECT_EQ(c->cni_version(), to);
      bool legacy = !VersionAtLeast(to, "0.3.0");
      bool v1 = VersionAtLeast(to, "1.0.0");
      EXPECT_EQ(c->ips_size() == 0 && c->interfaces_size() == 0, legacy)
          << name << " -> " << to;
      EXPECT_EQ(c->has_ip4() || c->has_ip6(), legacy) << name << " -> " << to;
      for (const IPConfig& ip : c->ips()) {
        EXPECT_EQ(ip.version().empty(), v1) << name << " -> " << to;
      }
      std::string json = WriteMessage(*c);
      absl::StatusOr<Result> again = DecodeResult(json, "", name);
      ASSERT_TRUE(again.ok()) << json << ": " << again.status();
      EXPECT_EQ(WriteMessage(*again), json);
      // Converting back to the source version and forth is stable.
      absl::StatusOr<Result> back = ConvertResult(*again, to);
      ASSERT_TRUE(back.ok());
      EXPECT_EQ(WriteMessage(*back), json);
    }
  }
}

TEST(Result, MissingVersionTakesConfigVersion) {
  auto r = DecodeResult(R"({"ips":[{"address":"10.0.0.2/8","version":"4"}]})",
                        "0.4.0", "p");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cni_version(), "0.4.0");
  auto old = DecodeResult(R"({"ip4":{"ip":"10.0.0.2/8"}})", "", "p");
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->cni_version(), "0.1.0");
  EXPECT_EQ(old->ip4().ip(), "10.0.0.2/8");
}

TEST(Result, NullOutputIsAnEmptyResult) {
  auto r = DecodeResult("null", "1.0.0", "p");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(WriteMessage(*r), R"({"cniVersion":"1.0.0"})");
  EXPECT_EQ(ConvertResult(*r, "0.2.0").status().message(),
            "cannot convert: no valid IP addresses");
}

TEST(Result, NoAddressToLegacyFails) {
  auto r = DecodeResult(
      R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}]})", "", "p");
  ASSERT_TRUE(r.ok());
  for (const char* to : {"0.1.0", "0.2.0"}) {
    auto c = ConvertResult(*r, to);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(c.status().message(), "cannot convert: no valid IP addresses");
  }
  EXPECT_TRUE(ConvertResult(*r, "0.4.0").ok());
  EXPECT_FALSE(ConvertResult(*r, "0.5.0").ok());
}

TEST(Result, MalformedOutputsAreRejectedClearly) {
  struct Case {
    const char* output;
    const char* want;
  } cases[] = {
      {"", "invalid JSON"},
      {"garbage", "invalid JSON"},
      {"[1,2]", "expected a JSON object"},
      {R"({"cniVersion":"9.9.9"})", "unsupported result cniVersion"},
      {R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1"}]})",
       "not an IP/prefix"},
      {R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/33"}]})",
       "not an IP/prefix"},
      {R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","gateway":"x"}]})",
       "gateway"},
      {R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"ips":[{"address":"10.0.0.1/8","interface":1}]})",
       "ips[0].interface 1 is out of range (the result has 1 interfaces)"},
      {R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","interface":0}]})",
       "out of range"},
      {R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","interface":-1}]})",
       "out of range"},
      {R"({"cniVersion":"1.0.0","routes":[{"dst":"nope"}]})", "route dst"},
      {R"({"cniVersion":"0.2.0","ip4":{"ip":"fd00::1/64"}})", "not an IPv4"},
      {R"({"cniVersion":"1.0.0","ips":"x"})", "invalid JSON"},
  };
  for (const Case& c : cases) {
    auto r = DecodeResult(c.output, "1.0.0", "bridge");
    ASSERT_FALSE(r.ok()) << c.output;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.want), std::string::npos)
        << c.output << " gave: " << r.status();
    EXPECT_NE(r.status().message().find("plugin bridge"), std::string::npos)
        << r.status();
  }
}

TEST(Result, UnknownFieldsAreTolerated) {
  auto r = DecodeResult(
      R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","future":1}],"extra":{"x":1}})",
      "", "p");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ips(0).address(), "10.0.0.1/8");
}

// A result already parsed into an object decodes as its JSON text does.
TEST(Result, ObjectDecodesAsItsText) {
  std::vector<std::string> inputs;
  for (const auto& [name, output] : PluginOutputs()) inputs.push_back(output);
  for (
      const char* extra : {
          R"({"cniVersion":"9.9.9"})",
          R"({"ips":[{"address":"10.0.0.1/8","interface":0}]})",
          R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","interface":2.5}]})",
          R"({"cniVersion":"1.0.0","ips":"x"})",
          R"({"cniVersion":"1.0.0","ips":[null],"dns":null})",
          R"({"cni_version":"0.4.0","ips":[{"address":"10.0.0.1/8","version":"4"}]})",
          R"({"cniVersion":"1.0.0","routes":[{"dst":"nope"}]})",
          R"({"extra":{"x":[1,{"y":null}]}})",
      }) {
    inputs.push_back(extra);
  }
  for (const std::string& input : inputs) {
    absl::StatusOr<google::protobuf::Struct> object =
        ParseJsonObject(input, "x");
    ASSERT_TRUE(object.ok()) << input;
    for (const char* version : {"", "0.4.0", "1.0.0"}) {
      absl::StatusOr<Result> from_object =
          DecodeResult(*object, version, "bridge");
      absl::StatusOr<Result> from_text =
          DecodeResult(WriteJson(*object), version, "bridge");
      ASSERT_EQ(from_object.status(), from_text.status()) << input;
      if (from_object.ok()) {
        EXPECT_EQ(from_object->DebugString(), from_text->DebugString())
            << input;
      }
    }
  }
}

// Inputs for the fast path's tests: the plugin outputs above and the corner
// cases of what the conversion and the message's JSON drop or keep.
std::vector<std::string> FastPathInputs() {
  std::vector<std::string> inputs;
  for (const auto& [name, output] : PluginOutputs()) inputs.push_back(output);
  for (
      const char* extra : {
          // The no-op plugin's output (bench/, testing/).
          R"({"cniVersion":"1.1.0","interfaces":[{"name":"eth0","sandbox":"/var/run/netns/noop"}],"ips":[{"address":"10.88.0.2/16","gateway":"10.88.0.1","interface":0}]})",
          // Unknown keys at every level; ip4/ip6 in a 1.x result.
          R"({"cniVersion":"1.0.0","future":{"a":[1,"b"]},"ip4":{"ip":"10.9.0.1/8"},"interfaces":[{"name":"e","x":1}],"ips":[{"address":"10.0.0.1/8","y":"z"}],"routes":[{"dst":"0.0.0.0/0","w":true}],"dns":{"domain":"d","q":[]}})",
          // Defaults that the message's JSON leaves out, and optional
          // fields that it keeps at 0.
          R"({"cniVersion":"1.1.0","interfaces":[{"name":"","mac":"","mtu":0,"sandbox":"","socketPath":"","pciID":""},{}],"ips":[{"address":"10.0.0.1/8","gateway":"","interface":0,"version":""}],"routes":[{"dst":"0.0.0.0/0","gw":"","mtu":0,"advmss":0,"priority":0,"table":0,"scope":0}],"dns":{"nameservers":[],"domain":"","search":[],"options":[]}})",
          R"({"cniVersion":"1.0.0","interfaces":[],"ips":[],"routes":[],"dns":{}})",
          R"({"cniVersion":"1.0.0","dns":{"options":["ndots:5"]}})",
          R"({"cniVersion":"1.0.0","dns":{"nameservers":[""]}})",
          // A wrong ips[].version, and 1.x-only fields, in a 0.x result.
          R"({"cniVersion":"0.4.0","interfaces":[{"name":"e","mtu":1500,"socketPath":"/s","pciID":"p"}],"ips":[{"version":"6","address":"10.0.0.1/8","interface":0},{"version":"4","address":"fd00::1/64"}]})",
          R"({"cniVersion":"0.3.0","ips":[{"address":"10.0.0.1/8"}]})",
          // No cniVersion: the config's.
          R"({"ips":[{"address":"10.0.0.1/8","interface":0}],"interfaces":[{"name":"e"}]})",
          R"({})",
          "null",
          // Numbers written in other ways, escapes, UTF-8.
          R"({"cniVersion":"1.0.0","interfaces":[{"name":"e\u00e9\/\"x\"","mtu":1.5e3}],"ips":[{"address":"10.0.0.1/8","interface":0.0}],"routes":[{"dst":"::/0","priority":-0,"table":2.0E0}]})",
          R"({"cniVersion":"1.0.0","interfaces":[{"name":"ü "}]})",
          // What the fast path leaves to protobuf's parser.
          R"({"cni_version":"0.4.0","ips":[{"address":"10.0.0.1/8","version":"4"}]})",
          R"({"cniVersion":"1.0.0","ips":[null],"dns":null})",
          R"({"cniVersion":"1.0.0","interfaces":[{"mtu":-0.0}]})",
          R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8",}],})",
          R"({"cniVersion":"1.0.0","interfaces":[{"name":"a","name":"b"}]})",
          // Errors.
          R"({"cniVersion":"9.9.9"})",
          R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","interface":2.5}]})",
          R"({"cniVersion":"1.0.0","ips":"x"})",
          R"({"cniVersion":"1.0.0","routes":[{"dst":"nope"}]})",
          R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","interface":3}]})",
          "[]",
          "garbage",
      }) {
    inputs.push_back(extra);
  }
  return inputs;
}

// What AddNetwork and the DEL-side prevResult did before the fast path:
// decode, convert, MessageToValue; the error of the first step that fails.
struct Reference {
  absl::Status status;
  std::string result;  // DebugString
  std::string value;   // WriteJson
};

Reference OldPath(const absl::StatusOr<Result>& decoded, absl::string_view to) {
  if (!decoded.ok()) return {decoded.status(), "", ""};
  absl::StatusOr<Result> c = ConvertResult(*decoded, to);
  if (!c.ok()) return {c.status(), "", ""};
  absl::StatusOr<google::protobuf::Value> v = MessageToValue(*c);
  if (!v.ok()) return {v.status(), "", ""};
  return {absl::OkStatus(), c->DebugString(), WriteJson(*v)};
}

Reference NewPath(absl::StatusOr<DecodedResult> decoded, absl::string_view to) {
  if (!decoded.ok()) return {decoded.status(), "", ""};
  absl::StatusOr<ConvertedResult> c =
      ConvertResultWithValue(*std::move(decoded), to);
  if (!c.ok()) return {c.status(), "", ""};
  return {absl::OkStatus(), c->result.DebugString(), WriteJson(c->value)};
}

// ExpectSame checks that both paths gave the same status, value and result.
void ExpectSame(const Reference& got, const Reference& want,
                const std::string& what) {
  EXPECT_EQ(got.status, want.status) << what;
  EXPECT_EQ(got.value, want.value) << what;
  EXPECT_EQ(got.result, want.result) << what;
}

std::vector<std::string> TargetVersions() {
  std::vector<std::string> out(std::begin(kSupportedVersions),
                               std::end(kSupportedVersions));
  out.push_back("0.5.0");  // Unsupported: the conversion's error.
  return out;
}

// CompareBothPaths decodes `input` (a plugin's output or a cached object)
// for `config_version` and converts it to `to` on the message path and on
// the fast path, expecting the same from both. It returns the fast path's
// decoding: whether it kept the object, and the result's version.
struct FastDecoding {
  bool kept_object = false;
  std::string version;
};
template <typename Input>
FastDecoding CompareBothPaths(const Input& input, absl::string_view label,
                              const char* config_version,
                              const std::string& to) {
  const Reference want =
      OldPath(DecodeResult(input, config_version, "bridge"), to);
  absl::StatusOr<DecodedResult> decoded =
      DecodeResultWithObject(input, config_version, "bridge");
  FastDecoding fast;
  if (decoded.ok()) {
    fast.kept_object = decoded->object.has_value();
    fast.version = decoded->result.cni_version();
  }
  ExpectSame(NewPath(std::move(decoded), to), want,
             absl::StrCat(label, " (config ", config_version, ") -> ", to));
  return fast;
}

// The prevResult bytes (and the result, and every error) are the same
// whether the value comes from the parsed output or from the message, for
// every result version, config version and target version.
TEST(Result, ValueFromOutputMatchesTheMessagePath) {
  int in_place = 0;
  for (const std::string& input : FastPathInputs()) {
    for (const char* config_version :
         {"", "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
      for (const std::string& to : TargetVersions()) {
        const FastDecoding fast =
            CompareBothPaths(input, input, config_version, to);
        if (fast.kept_object && VersionAtLeast(fast.version, "0.3.0") &&
            VersionAtLeast(to, "0.3.0") && IsSupportedVersion(to)) {
          ++in_place;
        }
      }
    }
  }
  // The in-place path is what most of these take.
  EXPECT_GT(in_place, 300);
}

// The same for a cached result (an object, as DelNetwork has it).
TEST(Result, ValueFromCachedObjectMatchesTheMessagePath) {
  int in_place = 0;
  for (const std::string& input : FastPathInputs()) {
    absl::StatusOr<google::protobuf::Struct> object =
        ParseJsonObject(input, "x");
    if (!object.ok()) continue;  // Not an object: not a cached result.
    for (const char* config_version : {"", "0.2.0", "0.4.0", "1.0.0"}) {
      for (const std::string& to : TargetVersions()) {
        if (CompareBothPaths(*object, input, config_version, to).kept_object) {
          ++in_place;
        }
      }
    }
  }
  EXPECT_GT(in_place, 100);
}

// A result written by the message path reads back on the fast path, and
// gives the same bytes again (what DEL sends from what ADD cached).
TEST(Result, CachedValueRoundTrips) {
  for (const auto& [name, output] : PluginOutputs()) {
    for (absl::string_view to : kSupportedVersions) {
      if (!VersionAtLeast(to, "0.3.0")) continue;
      absl::StatusOr<DecodedResult> decoded =
          DecodeResultWithObject(output, to, name);
      ASSERT_TRUE(decoded.ok()) << decoded.status();
      absl::StatusOr<ConvertedResult> added =
          ConvertResultWithValue(*std::move(decoded), to);
      ASSERT_TRUE(added.ok()) << added.status();
      absl::StatusOr<DecodedResult> cached = DecodeResultWithObject(
          added->value.struct_value(), to, "(cached result)");
      ASSERT_TRUE(cached.ok()) << cached.status();
      EXPECT_TRUE(cached->object.has_value()) << name << " -> " << to;
      absl::StatusOr<ConvertedResult> prev =
          ConvertResultWithValue(*std::move(cached), to);
      ASSERT_TRUE(prev.ok()) << prev.status();
      EXPECT_EQ(WriteJson(prev->value), WriteJson(added->value))
          << name << " -> " << to;
    }
  }
}

TEST(Result, ConvertFromAnRvalueMatchesTheCopy) {
  for (const auto& [name, output] : PluginOutputs()) {
    absl::StatusOr<Result> decoded = DecodeResult(output, "", name);
    ASSERT_TRUE(decoded.ok());
    for (const std::string& to : TargetVersions()) {
      absl::StatusOr<Result> copied = ConvertResult(*decoded, to);
      absl::StatusOr<Result> moved = ConvertResult(Result(*decoded), to);
      ASSERT_EQ(copied.status(), moved.status());
      if (copied.ok()) {
        EXPECT_EQ(copied->DebugString(), moved->DebugString());
      }
    }
  }
}

// A valid JSON value for one element of `field`, built from the
// descriptor; `depth` bounds the nesting of messages.
std::string SampleValue(const google::protobuf::FieldDescriptor* field,
                        int depth, int variant);

// An object that sets every field of `type` (and, through nested messages,
// of every type under it).
std::string SampleObject(const google::protobuf::Descriptor* type, int depth,
                         int variant) {
  std::string out = "{";
  for (int i = 0; i < type->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = type->field(i);
    if (i > 0) out += ",";
    absl::StrAppend(&out, "\"", field->json_name(), "\":");
    const std::string value = SampleValue(field, depth, variant + i);
    out += field->is_repeated() ? absl::StrCat("[", value, ",", value, "]")
                                : value;
  }
  return out + "}";
}

std::string SampleValue(const google::protobuf::FieldDescriptor* field,
                        int depth, int variant) {
  using FD = google::protobuf::FieldDescriptor;
  switch (field->cpp_type()) {
    case FD::CPPTYPE_INT32:
      return absl::StrCat(variant % 2 == 0 ? variant : -variant);
    case FD::CPPTYPE_STRING:
      return absl::StrCat("\"", field->name(), "-", variant, "\"");
    case FD::CPPTYPE_MESSAGE:
      return depth > 3
                 ? "{}"
                 : SampleObject(field->message_type(), depth + 1, variant + 1);
    default:
      ADD_FAILURE() << "no sample for " << field->full_name();
      return "null";
  }
}

// ReadBothWays parses `json` into a Result through ResultReader and through
// reflection, and expects the same status, message and object.
void ReadBothWays(const std::string& json) {
  SCOPED_TRACE(json);
  Result direct, reflected;
  std::optional<google::protobuf::Struct> direct_object, reflected_object;
  const absl::Status direct_status =
      ParseMessageInto(json, "r", ResultReader(), &direct, &direct_object);
  const absl::Status reflected_status =
      ParseMessageInto(json, "r", &reflected, &reflected_object);
  EXPECT_EQ(direct_status, reflected_status);
  EXPECT_EQ(direct.SerializeAsString(), reflected.SerializeAsString())
      << direct.DebugString() << "\nvs\n"
      << reflected.DebugString();
  EXPECT_EQ(direct_object.has_value(), reflected_object.has_value());
  if (direct_object.has_value() && reflected_object.has_value()) {
    EXPECT_EQ(WriteJson(*direct_object), WriteJson(*reflected_object));
  }
  if (direct_object.has_value()) {
    bool direct_from_object = false, reflected_from_object = false;
    Result from_object, reflected_from;
    EXPECT_TRUE(ValueToMessage(*direct_object, "v", ResultReader(),
                               &from_object, &direct_from_object)
                    .ok());
    EXPECT_TRUE(ValueToMessage(*direct_object, "v", &reflected_from,
                               &reflected_from_object)
                    .ok());
    EXPECT_TRUE(direct_from_object);
    EXPECT_TRUE(reflected_from_object);
    EXPECT_EQ(from_object.SerializeAsString(), direct.SerializeAsString());
  }
}

// Every field of every message under Result, set through its JSON name,
// is read by ResultReader as by reflection: a field missing from a reader,
// or under another name, would be skipped as unknown and differ.
TEST(ResultReader, ReadsEveryFieldAsReflectionDoes) {
  for (int variant = 0; variant < 3; ++variant) {
    const std::string all = SampleObject(Result::descriptor(), 0, variant);
    ReadBothWays(all);
    Result read;
    std::optional<google::protobuf::Struct> object;
    ASSERT_TRUE(
        ParseMessageInto(all, "r", ResultReader(), &read, &object).ok());
    EXPECT_TRUE(object.has_value()) << "the reader left " << all;
  }
  // Each field alone, at the top and nested, under its JSON name and under
  // its proto name (which the fast path leaves to protobuf's parser).
  std::vector<const google::protobuf::Descriptor*> types = {
      Result::descriptor()};
  for (size_t t = 0; t < types.size(); ++t) {
    const google::protobuf::Descriptor* type = types[t];
    for (int i = 0; i < type->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* field = type->field(i);
      if (field->message_type() != nullptr &&
          std::find(types.begin(), types.end(), field->message_type()) ==
              types.end()) {
        types.push_back(field->message_type());
      }
    }
  }
  EXPECT_EQ(types.size(), 6u);  // Result and the five types in it.
  for (const google::protobuf::Descriptor* type : types) {
    for (int i = 0; i < type->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* field = type->field(i);
      for (const std::string& key : {field->json_name(), field->name()}) {
        std::string value = SampleValue(field, 0, 7);
        if (field->is_repeated()) value = absl::StrCat("[", value, "]");
        std::string object = absl::StrCat("{\"", key, "\":", value, "}");
        // Wrap it into the Result field that holds its type.
        if (type->full_name() == "ocicni.types.Interface") {
          object = absl::StrCat("{\"interfaces\":[", object, "]}");
        } else if (type->full_name() == "ocicni.types.IPConfig") {
          object = absl::StrCat("{\"ips\":[", object, "]}");
        } else if (type->full_name() == "ocicni.types.Route") {
          object = absl::StrCat("{\"routes\":[", object,
                                "],\"ip6\":{\"routes\":[", object, "]}}");
        } else if (type->full_name() == "ocicni.types.DNS") {
          object = absl::StrCat("{\"dns\":", object, "}");
        } else if (type->full_name() == "ocicni.types.LegacyIPConfig") {
          object = absl::StrCat("{\"ip4\":", object, "}");
        }
        ReadBothWays(object);
      }
    }
  }
}

// What the fast path leaves to protobuf's parser, or reads in its own
// way, the reader leaves or reads alike.
TEST(ResultReader, EdgeCasesAsReflection) {
  std::string deep = "{\"x\":1}";
  for (int i = 0; i < 40; ++i) deep = absl::StrCat("{\"x\":", deep, "}");
  std::string deep_result = "{}";
  for (int i = 0; i < 20; ++i) {
    deep_result =
        absl::StrCat("{\"ip4\":{\"routes\":[{\"u\":", deep_result, "}]}}");
  }
  for (
      const std::string& json : std::vector<std::string>{
          R"({})",
          R"({"cniVersion":null})",
          R"({"cniVersion":1})",
          R"({"cniVersion":"1.0.0","unknown":null,"more":[1,null,{"a":null}]})",
          R"({"interfaces":{}})",
          R"({"interfaces":[null]})",
          R"({"interfaces":[{"mtu":1.5}]})",
          R"({"interfaces":[{"mtu":-0}]})",
          R"({"interfaces":[{"mtu":0}]})",
          R"({"interfaces":[{"mtu":2147483648}]})",
          R"({"interfaces":[{"mtu":-2147483648}]})",
          R"({"interfaces":[{"mtu":"1500"}]})",
          R"({"interfaces":[{"mtu":true}]})",
          R"({"ips":[{"interface":0,"address":"10.0.0.2/24"}]})",
          R"({"routes":[{"table":0,"scope":0}]})",
          R"({"dns":[]})",
          R"({"dns":{"nameservers":"1.1.1.1"}})",
          R"({"dns":{"nameservers":[1]}})",
          R"({"ip4":"10.0.0.1"})",
          R"({"@type":"x"})",
          R"({"[ext]":1})",
          R"({"":1})",
          R"({"cni_version":"1.0.0"})",
          R"({"interfaces":[{"socket_path":"/s"}]})",
          R"({"interfaces":[{"pci_id":"0000:00:01.0"}]})",
          "{\"cniVersion\":\"\xff\"}",
          "{\"\xc3\x28\":1}",
          R"({"cniVersion":"1.0.0",})",
          R"([])",
          deep,
          deep_result,
      }) {
    ReadBothWays(json);
  }
}

TEST(Result, IPFamily) {
  EXPECT_EQ(IPFamily("10.0.0.1"), 4);
  EXPECT_EQ(IPFamily("10.0.0.1/8"), 4);
  EXPECT_EQ(IPFamily("::1"), 6);
  EXPECT_EQ(IPFamily("fd00::1/64"), 6);
  EXPECT_EQ(IPFamily("localhost"), 0);
  EXPECT_EQ(IPFamily(""), 0);
}

}  // namespace
}  // namespace ocicni::types
