// Fuzzes building a plugin's stdin (BuildPluginRequest, BuildGCRequest) from
// a plugin config as a conf file may hold it.
//
// Properties checked for each plugin config object:
//   - BuildPluginRequest fails only for a non-object "capabilities";
//   - its output parses to an object with the injected name, cniVersion and
//     prevResult, every other key of the config unchanged, and a
//     runtimeConfig (when added) holding exactly the capabilities declared
//     true that the runtime supplied;
//   - BuildGCRequest's output parses and keeps the config's other keys.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/check.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "types/json.h"
#include "types/request.h"

namespace ocicni::fuzz {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::google::protobuf::util::MessageDifferencer;

constexpr absl::string_view kPrevResult =
    R"({"cniVersion":"1.0.0","ips":[{"address":"10.1.0.2/16"}]})";
constexpr absl::string_view kCapabilityArgs =
    R"({"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}],)"
    R"("mac":"aa:bb:cc:dd:ee:ff","ips":["10.1.0.9/16"]})";

// CheckKeptKeys checks that every key of `conf` but the `injected` ones is
// in `out` unchanged.
void CheckKeptKeys(const Struct& conf, const Struct& out,
                   std::initializer_list<absl::string_view> injected,
                   absl::string_view written) {
  for (const auto& [key, value] : conf.fields()) {
    bool is_injected = false;
    for (absl::string_view k : injected) is_injected |= key == k;
    if (is_injected) continue;
    auto it = out.fields().find(key);
    OCICNI_FUZZ_CHECK(it != out.fields().end() &&
                          MessageDifferencer::Equals(it->second, value),
                      absl::StrCat("key \"", key, "\" changed in ", written));
  }
}

void CheckRequest(const Struct& conf, const Value& prev, const Struct& caps) {
  absl::StatusOr<std::string> request =
      types::BuildPluginRequest(conf, "fuzznet", "1.0.0", &prev, caps);
  auto declared = conf.fields().find("capabilities");
  const bool caps_ok =
      declared == conf.fields().end() || declared->second.has_struct_value();
  OCICNI_FUZZ_CHECK(request.ok() == caps_ok, request.status().ToString());
  if (!request.ok()) return;

  absl::StatusOr<Struct> out = types::ParseJsonObject(*request, "request");
  OCICNI_FUZZ_CHECK(out.ok(),
                    absl::StrCat(*request, "\n", out.status().ToString()));
  const auto& fields = out->fields();
  OCICNI_FUZZ_CHECK(fields.at("name").string_value() == "fuzznet", *request);
  OCICNI_FUZZ_CHECK(fields.at("cniVersion").string_value() == "1.0.0",
                    *request);
  OCICNI_FUZZ_CHECK(MessageDifferencer::Equals(fields.at("prevResult"), prev),
                    *request);
  CheckKeptKeys(conf, *out,
                {"name", "cniVersion", "prevResult", "runtimeConfig"},
                *request);

  auto runtime = fields.find("runtimeConfig");
  if (runtime == fields.end() || declared == conf.fields().end()) return;
  // runtimeConfig was injected (or the config's own kept, if none applied).
  Struct expected;
  for (const auto& [name, on] : declared->second.struct_value().fields()) {
    auto arg = caps.fields().find(name);
    if (on.bool_value() && arg != caps.fields().end()) {
      (*expected.mutable_fields())[name] = arg->second;
    }
  }
  if (expected.fields().empty()) return;
  OCICNI_FUZZ_CHECK(
      runtime->second.has_struct_value() &&
          MessageDifferencer::Equals(runtime->second.struct_value(), expected),
      *request);
}

void CheckGCRequest(const Struct& conf) {
  const std::string request = types::BuildGCRequest(
      conf, "fuzznet", "1.1.0", {{"c1", "eth0"}, {"c2", "net1"}});
  absl::StatusOr<Struct> out = types::ParseJsonObject(request, "gc request");
  OCICNI_FUZZ_CHECK(out.ok(),
                    absl::StrCat(request, "\n", out.status().ToString()));
  OCICNI_FUZZ_CHECK(out->fields()
                            .at("cni.dev/valid-attachments")
                            .list_value()
                            .values_size() == 2,
                    request);
  CheckKeptKeys(conf, *out,
                {"name", "cniVersion", "cni.dev/valid-attachments",
                 "cni.dev/attachments"},
                request);
}

}  // namespace
}  // namespace ocicni::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* const prev = new google::protobuf::Value(
      *ocicni::types::ParseJson(ocicni::fuzz::kPrevResult, "prev"));
  static const auto* const caps = new google::protobuf::Struct(
      *ocicni::types::ParseJsonObject(ocicni::fuzz::kCapabilityArgs, "caps"));
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<google::protobuf::Struct> conf =
      ocicni::types::ParseJsonObject(input, "fuzz");
  if (!conf.ok()) return 0;
  ocicni::fuzz::CheckRequest(*conf, *prev, *caps);
  ocicni::fuzz::CheckGCRequest(*conf);
  return 0;
}
