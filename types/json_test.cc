#include "types/json.h"

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

}  // namespace
}  // namespace ocicni::types
