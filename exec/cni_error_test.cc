#include "exec/cni_error.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ocicni::exec {
namespace {

using ::testing::HasSubstr;

types::Error MakeError(uint32_t code, std::string msg, std::string details) {
  types::Error error;
  error.set_cni_version("1.0.0");
  error.set_code(code);
  error.set_msg(std::move(msg));
  error.set_details(std::move(details));
  return error;
}

TEST(CniErrorTest, CodeMappingIsStable) {
  EXPECT_EQ(StatusCodeForCniCode(1), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusCodeForCniCode(2), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForCniCode(3), absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForCniCode(4), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForCniCode(5), absl::StatusCode::kInternal);
  EXPECT_EQ(StatusCodeForCniCode(6), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForCniCode(7), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForCniCode(8), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForCniCode(11), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForCniCode(50), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForCniCode(51), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForCniCode(999), absl::StatusCode::kInternal);
  EXPECT_EQ(StatusCodeForCniCode(0), absl::StatusCode::kUnknown);
  EXPECT_EQ(StatusCodeForCniCode(42), absl::StatusCode::kUnknown);
  EXPECT_EQ(StatusCodeForCniCode(100), absl::StatusCode::kUnknown);
}

TEST(CniErrorTest, PayloadRoundTrip) {
  types::Error error = MakeError(11, "busy", "lease table locked");
  absl::Status status = CniErrorToStatus(error, "CNI plugin \"bridge\"");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(),
            "CNI plugin \"bridge\": busy; lease table locked "
            "(CNI error code 11)");
  std::optional<types::Error> back = CniErrorFromStatus(status);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->code(), 11u);
  EXPECT_EQ(back->msg(), "busy");
  EXPECT_EQ(back->details(), "lease table locked");
  EXPECT_EQ(back->cni_version(), "1.0.0");
}

TEST(CniErrorTest, PayloadSurvivesCopiesAndAnnotation) {
  absl::Status status = CniErrorToStatus(MakeError(3, "gone", ""), "");
  absl::Status copy = status;
  EXPECT_EQ(CniErrorFromStatus(copy)->code(), 3u);
  EXPECT_EQ(copy.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(copy.message(), "gone (CNI error code 3)");
}

TEST(CniErrorTest, NoPayload) {
  EXPECT_FALSE(CniErrorFromStatus(absl::OkStatus()).has_value());
  EXPECT_FALSE(CniErrorFromStatus(absl::InternalError("x")).has_value());
  absl::Status bad = absl::InternalError("x");
  bad.SetPayload(kCniErrorPayloadUrl, absl::Cord("\xff\xff\xff"));
  EXPECT_FALSE(CniErrorFromStatus(bad).has_value());
}

TEST(CniErrorTest, MessageIsBounded) {
  std::string huge(1 << 20, 'm');
  absl::Status status =
      CniErrorToStatus(MakeError(7, huge, huge), "CNI plugin \"x\"");
  EXPECT_LT(status.message().size(), 8u << 10);
  EXPECT_THAT(status.message(), HasSubstr("more bytes"));
  std::optional<types::Error> back = CniErrorFromStatus(status);
  ASSERT_TRUE(back.has_value());
  EXPECT_LE(back->msg().size(), (64u << 10) + 64);
}

TEST(CniErrorTest, EmptyMsgNamesCode) {
  types::Error error;
  error.set_code(107);
  EXPECT_THAT(CniErrorToStatus(error, "p").message(),
              HasSubstr("CNI error code 107"));
  EXPECT_EQ(CniErrorMessage(MakeError(1, "a", "b")), "a; b");
  EXPECT_EQ(CniErrorMessage(MakeError(1, "a", "")), "a");
}

}  // namespace
}  // namespace ocicni::exec
