// Fuzzes the decoding of a plugin's ADD output (DecodeResult) and the
// conversion of every accepted result to every supported version.
//
// Properties checked for each accepted result and each target version:
//   - converting to 0.3.0 or newer always succeeds; converting to 0.1.0/0.2.0
//     fails only for lack of addresses;
//   - a converted result is valid (ValidateResult) and in the target version;
//   - it is written (WriteMessage), decoded again to an equal result, and
//     converting it again changes nothing;
// and for every input, ParseMessageInto a Result (with its fast path, by
// reflection and through ResultReader) and ValueToMessage of the parsed
// object (both ways) give what protobuf's parser alone gives: the same
// message or the same error.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/check.h"
#include "types/json.h"
#include "types/result.h"
#include "types/version.h"

namespace ocicni::fuzz {
namespace {

using types::ConvertResult;
using types::DecodeResult;
using types::Result;
using types::ValidateResult;
using types::VersionAtLeast;
using types::WriteMessage;

void CheckConversions(const Result& result) {
  const std::string original = WriteMessage(result);
  for (absl::string_view version : types::kSupportedVersions) {
    absl::StatusOr<Result> converted = ConvertResult(result, version);
    if (!converted.ok()) {
      OCICNI_FUZZ_CHECK(!VersionAtLeast(version, "0.3.0"),
                        absl::StrCat(original, " -> ", version, ": ",
                                     converted.status().ToString()));
      continue;
    }
    const std::string written = WriteMessage(*converted);
    const std::string context =
        absl::StrCat(original, "\n-> ", version, ": ", written);
    OCICNI_FUZZ_CHECK(converted->cni_version() == version, context);
    absl::Status valid = ValidateResult(*converted, "converted");
    OCICNI_FUZZ_CHECK(valid.ok(),
                      absl::StrCat(context, "\n", valid.ToString()));

    absl::StatusOr<Result> again = DecodeResult(written, "1.1.0", "fuzz");
    OCICNI_FUZZ_CHECK(again.ok(),
                      absl::StrCat(context, "\n", again.status().ToString()));
    const std::string rewritten = WriteMessage(*again);
    OCICNI_FUZZ_CHECK(rewritten == written,
                      absl::StrCat(context, "\nre-decoded: ", rewritten));

    absl::StatusOr<Result> twice = ConvertResult(*converted, version);
    OCICNI_FUZZ_CHECK(twice.ok(),
                      absl::StrCat(context, "\n", twice.status().ToString()));
    const std::string twice_written = WriteMessage(*twice);
    OCICNI_FUZZ_CHECK(
        twice_written == written,
        absl::StrCat(context, "\nconverted again: ", twice_written));
  }
}

void CheckAgainstProtobuf(absl::string_view input) {
  Result fast, reference;
  const absl::Status fast_status = types::ParseMessageInto(input, "f", &fast);
  const absl::Status reference_status =
      types::internal::ProtobufParseMessageIntoForTest(input, "f", &reference);
  OCICNI_FUZZ_CHECK(
      fast_status == reference_status &&
          (!fast_status.ok() ||
           fast.SerializeAsString() == reference.SerializeAsString()),
      absl::StrCat("ParseMessageInto differs from protobuf\nfast: ",
                   fast_status.ToString(), " ", fast.DebugString(),
                   "\nprotobuf: ", reference_status.ToString(), " ",
                   reference.DebugString()));
  Result direct;
  std::optional<google::protobuf::Struct> direct_object;
  const absl::Status direct_status = types::ParseMessageInto(
      input, "f", types::ResultReader(), &direct, &direct_object);
  OCICNI_FUZZ_CHECK(
      direct_status == reference_status &&
          (!direct_status.ok() ||
           direct.SerializeAsString() == reference.SerializeAsString()),
      absl::StrCat("ParseMessageInto with ResultReader differs from "
                   "protobuf\ndirect: ",
                   direct_status.ToString(), " ", direct.DebugString(),
                   "\nprotobuf: ", reference_status.ToString(), " ",
                   reference.DebugString()));
  absl::StatusOr<google::protobuf::Struct> object =
      types::ParseJsonObject(input, "o");
  if (!object.ok()) return;
  bool direct_from_object = false;
  Result from_object_direct;
  const absl::Status object_direct_status =
      types::ValueToMessage(*object, "v", types::ResultReader(),
                            &from_object_direct, &direct_from_object);
  Result from_object, from_text;
  const absl::Status object_status =
      types::ValueToMessage(*object, "v", &from_object);
  const absl::Status text_status =
      types::internal::ProtobufParseMessageIntoForTest(
          types::WriteJson(*object), "v", &from_text);
  OCICNI_FUZZ_CHECK(
      object_status == text_status &&
          (!object_status.ok() ||
           from_object.SerializeAsString() == from_text.SerializeAsString()),
      absl::StrCat("ValueToMessage differs from protobuf\nfast: ",
                   object_status.ToString(), " ", from_object.DebugString(),
                   "\nprotobuf: ", text_status.ToString(), " ",
                   from_text.DebugString()));
  OCICNI_FUZZ_CHECK(
      object_direct_status == text_status &&
          (!object_direct_status.ok() ||
           from_object_direct.SerializeAsString() ==
               from_text.SerializeAsString()),
      absl::StrCat("ValueToMessage with ResultReader differs from "
                   "protobuf\ndirect: ",
                   object_direct_status.ToString(), " ",
                   from_object_direct.DebugString(), "\nprotobuf: ",
                   text_status.ToString(), " ", from_text.DebugString()));
}

}  // namespace
}  // namespace ocicni::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view output(reinterpret_cast<const char*>(data), size);
  ocicni::fuzz::CheckAgainstProtobuf(output);
  // The config's version only fills in a missing cniVersion: try one of each
  // result shape (0.1.0/0.2.0, 0.3.x/0.4.0, 1.x).
  for (absl::string_view config_version : {"0.2.0", "0.4.0", "1.1.0"}) {
    absl::StatusOr<ocicni::types::Result> result =
        ocicni::types::DecodeResult(output, config_version, "fuzz");
    if (result.ok()) ocicni::fuzz::CheckConversions(*result);
  }
  return 0;
}
