// Fuzzes the decoding of the error JSON a failing plugin prints
// ({"cniVersion", "code", "msg", "details"}).
//
// Properties checked for each accepted error: writing it (WriteMessage) and
// reading that back gives an equal error, and writing is stable.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
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
  return 0;
}
