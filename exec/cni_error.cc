#include "exec/cni_error.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"

namespace ocicni::exec {
namespace {

constexpr size_t kMessageFieldLimit = 2048;
constexpr size_t kPayloadFieldLimit = 64 << 10;

std::string Bounded(absl::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  return absl::StrCat(text.substr(0, limit), "...[", text.size() - limit,
                      " more bytes]");
}

}  // namespace

absl::StatusCode StatusCodeForCniCode(uint32_t code) {
  switch (code) {
    case kCniIncompatibleVersion:
      return absl::StatusCode::kFailedPrecondition;
    case kCniUnsupportedField:
    case kCniInvalidEnvironment:
    case kCniDecodingFailure:
    case kCniInvalidNetworkConfig:
    case kCniInvalidNetns:
      return absl::StatusCode::kInvalidArgument;
    case kCniUnknownContainer:
      return absl::StatusCode::kNotFound;
    case kCniIoFailure:
    case kCniInternal:
      return absl::StatusCode::kInternal;
    case kCniTryAgainLater:
    case kCniPluginNotAvailable:
    case kCniLimitedConnectivity:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kUnknown;
  }
}

std::string CniErrorMessage(const types::Error& error) {
  std::string message = error.msg();
  if (message.empty()) {
    message = absl::StrCat("CNI error code ", error.code(), " without msg");
  }
  if (!error.details().empty())
    absl::StrAppend(&message, "; ", error.details());
  return message;
}

absl::Status CniErrorToStatus(const types::Error& error,
                              absl::string_view context) {
  types::Error bounded = error;
  bounded.set_msg(Bounded(error.msg(), kMessageFieldLimit));
  bounded.set_details(Bounded(error.details(), kMessageFieldLimit));
  absl::Status status(StatusCodeForCniCode(error.code()),
                      absl::StrCat(context, context.empty() ? "" : ": ",
                                   CniErrorMessage(bounded),
                                   " (CNI error code ", error.code(), ")"));
  types::Error payload = error;
  payload.set_msg(Bounded(error.msg(), kPayloadFieldLimit));
  payload.set_details(Bounded(error.details(), kPayloadFieldLimit));
  status.SetPayload(kCniErrorPayloadUrl,
                    absl::Cord(payload.SerializeAsString()));
  return status;
}

std::optional<types::Error> CniErrorFromStatus(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kCniErrorPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  types::Error error;
  if (!error.ParseFromString(std::string(*payload))) return std::nullopt;
  return error;
}

}  // namespace ocicni::exec
