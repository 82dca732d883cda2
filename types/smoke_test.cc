#include "types/smoke.pb.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "absl/status/statusor.h"
#include "glog/logging.h"
#include <google/protobuf/util/json_util.h>
TEST(Smoke, Json) {
  ocicni::types::Smoke s;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(R"({"cniVersion":"1.0.0","extra":{"a":1}})", &s).ok());
  std::string out;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(s, &out).ok());
  absl::StatusOr<int> x = 3;
  LOG(INFO) << absl::StrCat(out, *x);
  EXPECT_EQ(out, R"({"cniVersion":"1.0.0","extra":{"a":1}})");
}
