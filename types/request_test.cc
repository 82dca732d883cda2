#include "types/request.h"

#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "types/json.h"

namespace ocicni::types {
namespace {

google::protobuf::Struct Obj(const char* json) {
  auto s = ParseJsonObject(json, "test");
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : google::protobuf::Struct();
}

TEST(Request, InjectsOnlyRuntimeKeysAndKeepsTheRest) {
  auto conf = Obj(
      R"({"type":"bridge","bridge":"cni0","name":"stale","cniVersion":"0.3.1","ipam":{"type":"host-local","ranges":[[{"subnet":"10.1.0.0/16"}]]},"x-vendor":{"z":[1,2]}})");
  auto got = BuildPluginRequest(conf, "mynet", "1.0.0", nullptr, {});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(
      *got,
      R"({"bridge":"cni0","cniVersion":"1.0.0","ipam":{"ranges":[[{"subnet":"10.1.0.0/16"}]],"type":"host-local"},"name":"mynet","type":"bridge","x-vendor":{"z":[1,2]}})");
}

TEST(Request, PrevResultAndDeclaredCapabilitiesOnly) {
  auto conf = Obj(
      R"({"type":"portmap","capabilities":{"portMappings":true,"bandwidth":false}})");
  RuntimeConfig rc;
  PortMapping* pm = rc.add_port_mappings();
  pm->set_host_port(8080);
  pm->set_container_port(80);
  pm->set_protocol("tcp");
  rc.mutable_bandwidth()->set_ingress_rate(1000);
  rc.set_mac("aa:bb:cc:dd:ee:ff");
  auto prev = ParseJson(
      R"({"cniVersion":"1.0.0","ips":[{"address":"10.1.0.2/16"}]})", "p");
  ASSERT_TRUE(prev.ok());
  auto got = BuildPluginRequest(conf, "n", "1.0.0", &*prev, CapabilityArgs(rc));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(
      *got,
      R"({"capabilities":{"bandwidth":false,"portMappings":true},"cniVersion":"1.0.0","name":"n","prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.1.0.2/16"}]},"runtimeConfig":{"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},"type":"portmap"})");
}

TEST(Request, NoMatchingCapabilityLeavesRuntimeConfigAlone) {
  auto conf = Obj(
      R"({"type":"x","capabilities":{"mac":true},"runtimeConfig":{"keep":1}})");
  auto got = BuildPluginRequest(conf, "n", "1.1.0", nullptr, {});
  ASSERT_TRUE(got.ok());
  EXPECT_NE(got->find(R"("runtimeConfig":{"keep":1})"), std::string::npos);
  auto bad = BuildPluginRequest(Obj(R"({"type":"x","capabilities":[1]})"), "n",
                                "1.0.0", nullptr, {});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Request, InjectedKeysReplaceTheConfigs) {
  auto conf = Obj(
      R"({"type":"x","prevResult":{"old":1},"runtimeConfig":{"old":2},"capabilities":{"mac":true},"zz":null,"a":[]})");
  RuntimeConfig rc;
  rc.set_mac("02:00:00:00:00:01");
  auto prev = ParseJson(R"({"cniVersion":"1.0.0"})", "p");
  ASSERT_TRUE(prev.ok());
  auto got = BuildPluginRequest(conf, "n", "1.0.0", &*prev, CapabilityArgs(rc));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(
      *got,
      R"({"a":[],"capabilities":{"mac":true},"cniVersion":"1.0.0","name":"n","prevResult":{"cniVersion":"1.0.0"},"runtimeConfig":{"mac":"02:00:00:00:00:01"},"type":"x","zz":null})");
  auto kept = BuildPluginRequest(conf, "n", "1.0.0", nullptr, {});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(
      *kept,
      R"({"a":[],"capabilities":{"mac":true},"cniVersion":"1.0.0","name":"n","prevResult":{"old":1},"runtimeConfig":{"old":2},"type":"x","zz":null})");
}

TEST(Request, DeterministicBytes) {
  auto conf = Obj(
      R"({"type":"x","k9":1,"k1":2,"k5":{"b":1,"a":2},"capabilities":{"ips":true,"mac":true,"aliases":true}})");
  RuntimeConfig rc;
  rc.add_ips("10.0.0.5/24");
  rc.set_mac("02:00:00:00:00:01");
  rc.add_aliases("web");
  auto first =
      BuildPluginRequest(conf, "n", "1.0.0", nullptr, CapabilityArgs(rc));
  for (int i = 0; i < 50; ++i) {
    auto again = BuildPluginRequest(Obj(WriteJson(conf).c_str()), "n", "1.0.0",
                                    nullptr, CapabilityArgs(rc));
    ASSERT_EQ(*again, *first);
  }
}

TEST(Request, CapabilityShapesUseConventionKeys) {
  RuntimeConfig rc;
  rc.mutable_bandwidth()->set_ingress_rate(1000000);
  rc.mutable_bandwidth()->set_ingress_burst(2000);
  rc.mutable_bandwidth()->set_egress_rate(3000000);
  rc.mutable_bandwidth()->set_egress_burst(4000);
  IPRange* range = rc.add_ip_ranges()->add_ranges();
  range->set_subnet("10.9.0.0/16");
  range->set_range_start("10.9.1.0");
  rc.mutable_dns()->add_servers("10.0.0.10");
  rc.mutable_dns()->add_searches("svc");
  rc.set_cgroup_path("/kubepods/pod1");
  (*rc.mutable_pod_annotations())["k"] = "v";
  PortMapping* pm = rc.add_port_mappings();
  pm->set_host_port(80);
  pm->set_container_port(8080);
  pm->set_protocol("udp");
  pm->set_host_ip("127.0.0.1");
  EXPECT_EQ(
      WriteJson(CapabilityArgs(rc)),
      R"({"bandwidth":{"egressBurst":4000,"egressRate":3000000,"ingressBurst":2000,"ingressRate":1000000},"cgroupPath":"/kubepods/pod1","dns":{"searches":["svc"],"servers":["10.0.0.10"]},"io.kubernetes.cri.pod-annotations":{"k":"v"},"ipRanges":[[{"rangeStart":"10.9.1.0","subnet":"10.9.0.0/16"}]],"portMappings":[{"containerPort":8080,"hostIP":"127.0.0.1","hostPort":80,"protocol":"udp"}]})");
  EXPECT_EQ(WriteJson(CapabilityArgs(RuntimeConfig())), "{}");
}

// What CapabilityArgs wrote for its messages before it had writers of its
// own: MessageToValue (reflection) of each.
google::protobuf::Struct CapabilityArgsByReflection(const RuntimeConfig& rc) {
  google::protobuf::Struct out;
  auto& fields = *out.mutable_fields();
  auto value = [](const google::protobuf::Message& m) {
    absl::StatusOr<google::protobuf::Value> v = MessageToValue(m);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : google::protobuf::Value();
  };
  if (!rc.port_mappings().empty()) {
    auto* list = fields["portMappings"].mutable_list_value();
    for (const PortMapping& pm : rc.port_mappings()) {
      *list->add_values() = value(pm);
    }
  }
  if (rc.has_bandwidth()) fields["bandwidth"] = value(rc.bandwidth());
  if (!rc.ip_ranges().empty()) {
    auto* outer = fields["ipRanges"].mutable_list_value();
    for (const IPRangeSet& set : rc.ip_ranges()) {
      auto* inner = outer->add_values()->mutable_list_value();
      for (const IPRange& range : set.ranges()) {
        *inner->add_values() = value(range);
      }
    }
  }
  if (rc.has_dns()) fields["dns"] = value(rc.dns());
  return out;
}

// Sets every field of `message` (no nested messages) to a value derived
// from `variant`, through reflection.
void FillEveryField(google::protobuf::Message* message, int variant) {
  using FD = google::protobuf::FieldDescriptor;
  const google::protobuf::Descriptor* type = message->GetDescriptor();
  const google::protobuf::Reflection* r = message->GetReflection();
  for (int i = 0; i < type->field_count(); ++i) {
    const FD* field = type->field(i);
    const int n = variant * 10 + i + 1;
    switch (field->cpp_type()) {
      case FD::CPPTYPE_INT32:
        r->SetInt32(message, field, variant % 2 == 0 ? n : -n);
        break;
      case FD::CPPTYPE_DOUBLE:
        r->SetDouble(message, field, n * 1000.5);
        break;
      case FD::CPPTYPE_STRING: {
        const std::string s = absl::StrCat(field->name(), "-", n, "-\xc3\xa9");
        if (field->is_repeated()) {
          r->AddString(message, field, s);
          r->AddString(message, field, s + "2");
        } else {
          r->SetString(message, field, s);
        }
        break;
      }
      default:
        ADD_FAILURE() << "no value for " << field->full_name();
    }
  }
}

void ExpectSameAsReflection(const RuntimeConfig& rc) {
  SCOPED_TRACE(rc.ShortDebugString());
  EXPECT_EQ(WriteJson(CapabilityArgs(rc)),
            WriteJson(CapabilityArgsByReflection(rc)));
}

// The capability messages are written as MessageToValue writes them, every
// field included: a field the writers missed, or wrote under another key,
// differs.
TEST(Request, CapabilityMessagesAsReflectionWritesThem) {
  for (int variant = 0; variant < 3; ++variant) {
    RuntimeConfig rc;
    FillEveryField(rc.add_port_mappings(), variant);
    FillEveryField(rc.add_port_mappings(), variant + 1);
    FillEveryField(rc.mutable_bandwidth(), variant);
    FillEveryField(rc.add_ip_ranges()->add_ranges(), variant);
    rc.add_ip_ranges();  // an empty inner list
    FillEveryField(rc.mutable_dns(), variant);
    ExpectSameAsReflection(rc);
    // The fill reached every field: none is written empty.
    const std::string json = WriteJson(CapabilityArgs(rc));
    for (const char* key :
         {"hostPort", "containerPort", "protocol", "hostIP", "ingressRate",
          "ingressBurst", "egressRate", "egressBurst", "subnet", "rangeStart",
          "rangeEnd", "gateway", "servers", "searches", "options"}) {
      EXPECT_NE(json.find(absl::StrCat("\"", key, "\"")), std::string::npos)
          << key << " missing in " << json;
    }
  }
  // Messages at their defaults, one field at a time, and the doubles at
  // their edges.
  RuntimeConfig defaults;
  defaults.add_port_mappings();
  defaults.mutable_bandwidth();
  defaults.add_ip_ranges()->add_ranges();
  defaults.mutable_dns();
  ExpectSameAsReflection(defaults);
  for (double d : {-0.0, 0.5, -1.0, 1e300, 9007199254740993.0,
                   std::numeric_limits<double>::denorm_min(),
                   std::numeric_limits<double>::quiet_NaN(),
                   std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity()}) {
    RuntimeConfig rc;
    rc.mutable_bandwidth()->set_egress_burst(d);
    ExpectSameAsReflection(rc);
    rc.mutable_bandwidth()->set_ingress_rate(1000);
    ExpectSameAsReflection(rc);
  }
  RuntimeConfig one;
  one.add_port_mappings()->set_host_ip("::1");
  one.add_port_mappings()->set_container_port(-2147483647 - 1);
  ExpectSameAsReflection(one);
}

TEST(Request, GC) {
  auto conf = Obj(R"({"type":"host-local"})");
  EXPECT_EQ(
      BuildGCRequest(conf, "n", "1.1.0", {{"c1", "eth0"}, {"c2", "net1"}}),
      R"({"cni.dev/attachments":[{"containerID":"c1","ifname":"eth0"},{"containerID":"c2","ifname":"net1"}],"cni.dev/valid-attachments":[{"containerID":"c1","ifname":"eth0"},{"containerID":"c2","ifname":"net1"}],"cniVersion":"1.1.0","name":"n","type":"host-local"})");
  EXPECT_EQ(
      BuildGCRequest(conf, "n", "1.1.0", {}),
      R"({"cni.dev/attachments":[],"cni.dev/valid-attachments":[],"cniVersion":"1.1.0","name":"n","type":"host-local"})");
}

}  // namespace
}  // namespace ocicni::types
