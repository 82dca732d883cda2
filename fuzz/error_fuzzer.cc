// Fuzzes the decoding of the error JSON a failing plugin prints
// ({"cniVersion", "code", "msg", "details"}).
//
// Properties checked for each accepted error:
//   - writing it (WriteMessage) and reading that back gives an equal error,
//     and writing is stable;
//   - the status exec/ makes of it (CniErrorToStatus) has the documented
//     code, a bounded message, and carries the error unchanged as its
//     payload (CniErrorFromStatus).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "exec/cni_error.h"
#include "fuzz/check.h"
#include "google/protobuf/util/message_differencer.h"
#include "types/cni.pb.h"
#include "types/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ::ocicni::types::Error;
  const absl::string_view output(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<Error> error =
      ocicni::types::ParseMessage<Error>(output, "fuzz");
  if (!error.ok()) return 0;

  const std::string written = ocicni::types::WriteMessage(*error);
  absl::StatusOr<Error> again =
      ocicni::types::ParseMessage<Error>(written, "written");
  OCICNI_FUZZ_CHECK(again.ok(),
                    absl::StrCat(written, "\n", again.status().ToString()));
  OCICNI_FUZZ_CHECK(
      google::protobuf::util::MessageDifferencer::Equals(*error, *again),
      absl::StrCat("round trip changed the error: ", written,
                   "\nre-read: ", again->DebugString()));
  OCICNI_FUZZ_CHECK(ocicni::types::WriteMessage(*again) == written,
                    absl::StrCat("not stable: ", written));

  const absl::Status status = ocicni::exec::CniErrorToStatus(*error, "fuzz");
  OCICNI_FUZZ_CHECK(
      status.code() == ocicni::exec::StatusCodeForCniCode(error->code()),
      status.ToString());
  // msg and details are each cut to 2 KiB (plus a note) in the message.
  OCICNI_FUZZ_CHECK(status.message().size() <= 2 * 2048 + 256,
                    absl::StrCat(status.message().size(), " bytes"));
  std::optional<Error> payload = ocicni::exec::CniErrorFromStatus(status);
  OCICNI_FUZZ_CHECK(payload.has_value(), status.ToString());
  // Inputs are far below the payload's 64 KiB bound: nothing is cut.
  OCICNI_FUZZ_CHECK(
      google::protobuf::util::MessageDifferencer::Equals(*error, *payload),
      absl::StrCat(written, "\npayload: ", payload->DebugString()));
  return 0;
}
