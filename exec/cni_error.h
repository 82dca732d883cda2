// CNI errors carried in absl::Status.
//
// When a plugin fails with a CNI error ({"code", "msg", "details"} on stdout),
// exec/ returns a status whose code is derived from the CNI code (table
// below) and which carries the whole types::Error as a payload, so callers
// can act on the exact CNI code (e.g. retry on 11) and hand msg/details on.
//
//   absl::Status s = invoker.Invoke(request).status();
//   if (std::optional<types::Error> e = exec::CniErrorFromStatus(s);
//       e && e->code() == exec::kCniTryAgainLater) {
//     ...retry later...
//   }
//
// CNI code -> absl::StatusCode (stable; callers may rely on it):
//   1  incompatible CNI version          -> kFailedPrecondition
//   2  unsupported field in config       -> kInvalidArgument
//   3  container unknown or not existing -> kNotFound
//   4  invalid environment variables     -> kInvalidArgument
//   5  I/O failure                       -> kInternal
//   6  failed to decode content          -> kInvalidArgument
//   7  invalid network config            -> kInvalidArgument
//   8  invalid netns (libcni)            -> kInvalidArgument
//   11 try again later                   -> kUnavailable
//   50 plugin not available              -> kUnavailable
//   51 not available, limited connectivity -> kUnavailable
//   999 internal (libcni)                -> kInternal
//   0, missing, other reserved codes, and plugin-specific codes (100+)
//                                        -> kUnknown
#ifndef OCICNI_EXEC_CNI_ERROR_H_
#define OCICNI_EXEC_CNI_ERROR_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "types/cni.pb.h"

namespace ocicni::exec {

// Well-known CNI error codes (spec table plus libcni's 8 and 999).
inline constexpr uint32_t kCniIncompatibleVersion = 1;
inline constexpr uint32_t kCniUnsupportedField = 2;
inline constexpr uint32_t kCniUnknownContainer = 3;
inline constexpr uint32_t kCniInvalidEnvironment = 4;
inline constexpr uint32_t kCniIoFailure = 5;
inline constexpr uint32_t kCniDecodingFailure = 6;
inline constexpr uint32_t kCniInvalidNetworkConfig = 7;
inline constexpr uint32_t kCniInvalidNetns = 8;
inline constexpr uint32_t kCniTryAgainLater = 11;
inline constexpr uint32_t kCniPluginNotAvailable = 50;
inline constexpr uint32_t kCniLimitedConnectivity = 51;
inline constexpr uint32_t kCniInternal = 999;

// The payload type URL under which the serialized types::Error is attached.
inline constexpr absl::string_view kCniErrorPayloadUrl =
    "type.ocicni.dev/ocicni.types.Error";

// StatusCodeForCniCode maps a CNI error code as in the file comment.
absl::StatusCode StatusCodeForCniCode(uint32_t code);

// CniErrorMessage renders an error as libcni does: "msg" or "msg; details"
// (or a placeholder naming the code when msg is empty).
std::string CniErrorMessage(const types::Error& error);

// CniErrorToStatus builds the status for a plugin's CNI error: code mapped
// as above, message "<context>: <CniErrorMessage> (CNI error code N)"
// (the message bounded to a few KiB), and `error` attached as the payload
// (msg and details bounded to 64 KiB each).
absl::Status CniErrorToStatus(const types::Error& error,
                              absl::string_view context);

// CniErrorFromStatus returns the CNI error attached to `status`, if any.
std::optional<types::Error> CniErrorFromStatus(const absl::Status& status);

}  // namespace ocicni::exec

#endif  // OCICNI_EXEC_CNI_ERROR_H_
