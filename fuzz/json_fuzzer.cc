// Fuzzes the JSON codec every other reader is built on.
//
// Properties checked for each input ParseJson accepts:
//   - WriteJson's output parses back to an equal value (same kinds, same
//     strings, bit-identical numbers);
//   - writing is canonical: writing the re-parsed value gives the same bytes;
//   - ParseJsonObject accepts exactly the inputs whose value is an object;
// and for every input, ParseJson (with its fast path) gives what protobuf's
// parser alone gives: the same value or the same error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/check.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "types/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ::google::protobuf::Value;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<Value> value = ocicni::types::ParseJson(input, "fuzz");
  absl::StatusOr<google::protobuf::Struct> object =
      ocicni::types::ParseJsonObject(input, "fuzz");
  OCICNI_FUZZ_CHECK(
      object.ok() == (value.ok() && value->has_struct_value()),
      absl::StrCat("ParseJsonObject: ", object.status().ToString()));
  absl::StatusOr<Value> reference =
      ocicni::types::internal::ProtobufParseJsonForTest(input, "fuzz");
  OCICNI_FUZZ_CHECK(
      value.ok() == reference.ok() &&
          (value.ok() ? google::protobuf::util::MessageDifferencer::Equals(
                            *value, *reference)
                      : value.status() == reference.status()),
      absl::StrCat(
          "ParseJson differs from protobuf's parser\nParseJson: ",
          value.ok() ? value->DebugString() : value.status().ToString(),
          "\nprotobuf:  ",
          reference.ok() ? reference->DebugString()
                         : reference.status().ToString()));
  if (!value.ok()) return 0;

  const std::string written = ocicni::types::WriteJson(*value);
  absl::StatusOr<Value> again = ocicni::types::ParseJson(written, "written");
  OCICNI_FUZZ_CHECK(again.ok(), absl::StrCat("WriteJson wrote ", written,
                                             "\nwhich does not parse: ",
                                             again.status().ToString()));
  OCICNI_FUZZ_CHECK(
      google::protobuf::util::MessageDifferencer::Equals(*value, *again),
      absl::StrCat("round trip changed the value\nwritten:  ", written,
                   "\nre-read:  ", again->DebugString(),
                   "\noriginal: ", value->DebugString()));
  const std::string rewritten = ocicni::types::WriteJson(*again);
  OCICNI_FUZZ_CHECK(rewritten == written,
                    absl::StrCat("not canonical:\n", written, "\n", rewritten));
  if (object.ok()) {
    OCICNI_FUZZ_CHECK(ocicni::types::WriteJson(*object) == written,
                      "WriteJson(Struct) differs from WriteJson(Value)");
  }
  return 0;
}
