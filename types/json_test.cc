#include "types/json.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "types/cni.pb.h"

namespace ocicni::types {
namespace {

TEST(Json, WriteSortsKeysAtEveryLevel) {
  auto v = ParseJson(
      R"({"zeta":1,"alpha":{"z":[3,{"y":1,"b":2}],"b":true},"mid":null})",
      "test");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(
      WriteJson(*v),
      R"({"alpha":{"b":true,"z":[3,{"b":2,"y":1}]},"mid":null,"zeta":1})");
}

TEST(Json, SameInputSameBytes) {
  std::string in = "{";
  for (int i = 0; i < 200; ++i) {
    if (i) in += ",";
    in += "\"k" + std::to_string(i) + "\":" + std::to_string(i);
  }
  in += "}";
  auto a = ParseJson(in, "a");
  auto b = ParseJson(in, "b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(WriteJson(*a), WriteJson(*b));
}

TEST(Json, NumbersLikeGo) {
  auto v = ParseJson(R"([0,1,-7,1500,2.5,1e21,0.1,4294967295])", "n");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(WriteJson(*v), "[0,1,-7,1500,2.5,1e+21,0.1,4294967295]");
}

// Found by fuzz/json_fuzzer: -0.0 was written as "-0", which parses back
// as +0, so writing was not a fixed point.
TEST(Json, NegativeZeroIsWrittenAsZero) {
  auto v = ParseJson(R"([-0,-0.0,-0e-7,0])", "n");
  ASSERT_TRUE(v.ok()) << v.status();
  const std::string written = WriteJson(*v);
  EXPECT_EQ(written, "[0,0,0,0]");
  auto again = ParseJson(written, "again");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(WriteJson(*again), written);
}

TEST(Json, StringsEscapedLikeGo) {
  auto v = ParseJson(R"(["a\"b\\c\n\t\u0001<>&é\u2028"])", "s");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(
      WriteJson(*v),
      "[\"a\\\"b\\\\c\\n\\t\\u0001\\u003c\\u003e\\u0026\xc3\xa9\\u2028\"]");
}

// ReferenceString is the string writer as first written, one byte at a
// time: the byte-for-byte reference for AppendJsonString.
std::string ReferenceString(absl::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '<':
      case '>':
      case '&':
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
        break;
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else if (c == 0xe2 && i + 2 < s.size() &&
                   static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xa8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xa9)) {
          out.append(static_cast<unsigned char>(s[i + 2]) == 0xa8 ? "\\u2028"
                                                                  : "\\u2029");
          i += 2;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

TEST(Json, StringWriterMatchesTheReference) {
  std::vector<std::string> inputs = {"",
                                     "plain",
                                     "a\"b\\c",
                                     "\xe2\x80\xa8",
                                     "\xe2\x80\xa9",
                                     "x\xe2\x80\xa8y",
                                     "\xe2\x80",
                                     "\xe2",
                                     "\xe2\x80\xaa",
                                     "\xe2\xe2\x80\xa9",
                                     "end\xe2\x80",
                                     "\xc3\xa9<tag>&amp;",
                                     std::string("nul\0in", 6)};
  // Every byte alone, at the start, in the middle and at the end of text.
  for (int c = 0; c < 256; ++c) {
    const std::string b(1, static_cast<char>(c));
    for (const std::string& s : {b, b + "tail", "head" + b + "tail", "head" + b,
                                 b + b + "\xe2\x80\xa8" + b}) {
      inputs.push_back(s);
    }
  }
  for (const std::string& s : inputs) {
    std::string got = "prefix";
    AppendJsonString(s, &got);
    EXPECT_EQ(got, "prefix" + ReferenceString(s)) << absl::CEscape(s);
  }
}

TEST(Json, RoundTripIsStable) {
  const std::string canonical =
      R"({"cniVersion":"1.0.0","name":"n","plugins":[{"ipam":{"ranges":[[{"subnet":"10.1.0.0/16"}]],"type":"host-local"},"isGateway":true,"type":"bridge"}]})";
  auto v = ParseJson(canonical, "x");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(WriteJson(*v), canonical);
}

TEST(Json, MalformedInputNamesTheSource) {
  for (const char* bad : {"", "   ", "{", "{\"a\":}", "{\"a\":1} x",
                          "{\"a\":1,\"a\":2}", "nul"}) {
    auto v = ParseJson(bad, "/etc/cni/net.d/10-x.conf");
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(v.status().message().find("/etc/cni/net.d/10-x.conf"),
              std::string::npos)
        << v.status();
  }
}

TEST(Json, NullAndScalarsParse) {
  auto v = ParseJson("null", "x");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_FALSE(ParseJsonObject("[1]", "x").ok());
  EXPECT_TRUE(ParseJsonObject("{}", "x").ok());
}

TEST(Json, TypedMessagesUseWireNamesAndSkipUnknown) {
  auto err = ParseMessage<Error>(
      R"({"cniVersion":"1.0.0","code":7,"msg":"bad","details":"d","extra":1})",
      "bridge");
  ASSERT_TRUE(err.ok()) << err.status();
  EXPECT_EQ(err->code(), 7u);
  EXPECT_EQ(WriteMessage(*err),
            R"({"cniVersion":"1.0.0","code":7,"details":"d","msg":"bad"})");
  Error zero;
  zero.set_code(0);
  EXPECT_EQ(WriteMessage(zero), R"({"code":0})");
  EXPECT_FALSE(ParseMessage<Error>(R"({"code":"x"})", "p").ok());
}

// What protobuf's JSON printer makes of `message`, through text.
std::string ViaPrinter(const google::protobuf::Message& message) {
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(message, &json).ok());
  auto value = ParseJson(json, "printer");
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? WriteJson(*value) : "";
}

TEST(Json, MessageToValueMatchesTheJsonPrinter) {
  Result result;
  result.set_cni_version("1.0.0");
  Interface* iface = result.add_interfaces();
  iface->set_name("eth0");
  iface->set_mac("02:00:00:00:00:01");
  iface->set_mtu(1500);
  iface->set_sandbox("/var/run/netns/p");
  result.add_interfaces()->set_name("veth1");
  IPConfig* ip = result.add_ips();
  ip->set_interface(0);
  ip->set_address("10.0.0.2/24");
  ip->set_gateway("10.0.0.1");
  Route* route = result.add_routes();
  route->set_dst("0.0.0.0/0");
  route->set_table(0);
  route->set_priority(-3);
  result.mutable_dns()->add_nameservers("10.0.0.53");
  result.mutable_ip4();  // set, empty
  EXPECT_EQ(WriteJson(*MessageToValue(result)), ViaPrinter(result));

  CacheFile file;
  file.set_kind("cniCacheV1");
  file.set_config(std::string("{\"a\":\0\xff}", 8));
  auto* pair = file.add_cni_args();
  *pair->add_values() = StringValue("K8S_POD_NAME");
  *pair->add_values() = StringValue("web");
  (*file.mutable_capability_args()->mutable_fields())["mac"] =
      StringValue("02:00:00:00:00:02");
  (*file.mutable_result()->mutable_fields())["n"].set_number_value(1.5);
  EXPECT_EQ(WriteJson(*MessageToValue(file)), ViaPrinter(file));

  RuntimeConfig runtime;
  PortMapping* pm = runtime.add_port_mappings();
  pm->set_host_port(8080);
  pm->set_container_port(80);
  pm->set_protocol("tcp");
  runtime.mutable_bandwidth()->set_ingress_rate(1e9);
  runtime.add_ip_ranges()->add_ranges()->set_subnet("10.1.0.0/16");
  EXPECT_EQ(WriteJson(*MessageToValue(runtime)), ViaPrinter(runtime));
  (*runtime.mutable_pod_annotations())["a"] = "b";  // a map: the fallback
  EXPECT_EQ(WriteJson(*MessageToValue(runtime)), ViaPrinter(runtime));

  for (const google::protobuf::Message* empty :
       std::initializer_list<const google::protobuf::Message*>{
           &Result::default_instance(), &Error::default_instance()}) {
    EXPECT_EQ(WriteJson(*MessageToValue(*empty)), ViaPrinter(*empty));
  }
}

std::string Nested(int depth, absl::string_view open, absl::string_view close,
                   absl::string_view inner) {
  std::string s;
  for (int i = 0; i < depth; ++i) absl::StrAppend(&s, open);
  absl::StrAppend(&s, inner);
  for (int i = 0; i < depth; ++i) absl::StrAppend(&s, close);
  return s;
}

// Inputs on both sides of what the fast paths take on.
std::vector<std::string> EdgeInputs() {
  std::vector<std::string> in = {
      "null",
      "true",
      "false",
      "0",
      "-0",
      "-0.0",
      "1.5",
      "1e2",
      "1E-2",
      "123456789012345",
      "1234567890123456",
      "9007199254740993",
      "-9223372036854775808",
      "18446744073709551615",
      "1e400",
      "1e-400",
      "01",
      "1.",
      ".5",
      "+1",
      "-",
      "1e",
      "0x10",
      "NaN",
      "Infinity",
      R"("a\u00e9\u2028\/\b\f")",
      R"("\u0000")",
      R"("\ud83d\ude00")",
      R"("\ud83d")",
      "\"\xc3\xa9\"",
      "\"\xc3\"",
      "\"\xed\xa0\x80\"",
      "\"\xf4\x90\x80\x80\"",
      "\"\x01\"",
      "'a'",
      "{a:1}",
      "{'a':1}",
      "[1,]",
      "{\"a\":1,}",
      "[1 2]",
      "{\"a\" 1}",
      " \n{\"a\" :\t[ ] } \r\n",
      "\xef\xbb\xbf{}",
      "{}\f",
      "\v{}",
      "{} x",
      "{\"a\":1,\"a\":2}",
      "[{\"a\":1,\"a\":1}]",
      "{\"a\":{}, \"b\":[]}",
      "/*c*/{}",
      R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","interface":2.0}]})",
      R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","interface":2.5}]})",
      R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","interface":-0.0}]})",
      R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","interface":3000000000}]})",
      R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","interface":"1"}]})",
      R"({"cniVersion":"1.0.0","ips":[null]})",
      R"({"cniVersion":null,"dns":null,"ips":null})",
      R"({"cni_version":"0.4.0"})",
      R"({"cniVersion":"1.0.0","cni_version":"0.4.0"})",
      R"({"cniVersion":1})",
      R"({"cniVersion":"1.0.0","dns":{},"routes":[],"ip4":{"ip":"1.2.3.4/8"}})",
      R"({"cniVersion":"1.0.0","interfaces":{"name":"x"}})",
      R"({"cniVersion":"1.0.0","interfaces":["x"]})",
      R"({"cniVersion":"1.0.0","extra":{"x":[1,{"y":null}]},"pciId":"z"})",
      R"({"code":7,"msg":"m"})",
      R"({"code":-1})",
      R"({"code":4294967296})",
      R"({"code":4294967295})",
      R"({"code":1e3})",
      R"({"kind":"cniCacheV1","config":"e30=","result":{"a":null}})",
      R"({"kind":"cniCacheV1","cniArgs":[["a","b"]],"capabilityArgs":{}})",
      R"({"kind":"cniCacheV1","cniArgs":[null]})",
      R"({"":1})",
      R"({"a":{"":[]}})",
      R"({"cniVersion":"1.0.0","":1})",
      R"({"ips":[{"":"x","address":"10.0.0.1/8"}]})",
      R"({"[ocicni.x]":1,"@type":"t"})",
      R"({"ips":[{"@type":"x"}]})",
      R"({"kind":"cniCacheV1","result":{"":1,"@type":"x","[y]":2}})",
  };
  for (int depth : {30, 31, 32, 33, 34, 60, 99, 100, 101, 200}) {
    in.push_back(Nested(depth, "[", "]", "1"));
    in.push_back(Nested(depth, "{\"a\":", "}", "1"));
    in.push_back(absl::StrCat(R"({"cniVersion":"1.0.0","x":)",
                              Nested(depth, "[", "]", ""), "}"));
  }
  return in;
}

// The fast paths of ParseJson and ParseMessageInto agree with protobuf's
// parser: same acceptance, same values, same errors.
TEST(Json, FastPathsMatchProtobuf) {
  for (const std::string& input : EdgeInputs()) {
    absl::StatusOr<google::protobuf::Value> fast = ParseJson(input, "w");
    absl::StatusOr<google::protobuf::Value> slow =
        internal::ProtobufParseJsonForTest(input, "w");
    ASSERT_EQ(fast.ok(), slow.ok()) << input;
    if (fast.ok()) {
      EXPECT_EQ(fast->DebugString(), slow->DebugString()) << input;
    } else {
      EXPECT_EQ(fast.status(), slow.status()) << input;
    }
    auto compare = [&](google::protobuf::Message* a,
                       google::protobuf::Message* b) {
      absl::Status fast_status = ParseMessageInto(input, "m", a);
      absl::Status slow_status =
          internal::ProtobufParseMessageIntoForTest(input, "m", b);
      EXPECT_EQ(fast_status, slow_status) << input;
      if (fast_status.ok() && slow_status.ok()) {
        EXPECT_EQ(a->DebugString(), b->DebugString()) << input;
        EXPECT_EQ(a->ByteSizeLong(), b->ByteSizeLong()) << input;
      }
      if (!fast.ok() ||
          fast->kind_case() != google::protobuf::Value::kStructValue) {
        return;
      }
      // ValueToMessage reads what protobuf reads from the written value.
      a->Clear();
      b->Clear();
      absl::Status from_value = ValueToMessage(fast->struct_value(), "v", a);
      absl::Status reference =
          internal::ProtobufParseMessageIntoForTest(WriteJson(*fast), "v", b);
      EXPECT_EQ(from_value, reference) << input;
      if (from_value.ok() && reference.ok()) {
        EXPECT_EQ(a->DebugString(), b->DebugString()) << input;
      }
    };
    Result r1, r2;
    compare(&r1, &r2);
    Error e1, e2;
    compare(&e1, &e2);
    CacheFile c1, c2;
    compare(&c1, &c2);
  }
}

}  // namespace
}  // namespace ocicni::types
