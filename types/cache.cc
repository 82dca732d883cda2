#include "types/cache.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "types/json.h"
#include "types/validate.h"

namespace ocicni::types {
namespace {

// AppendKey starts the entry `key` of the object being written to `out`.
void AppendKey(absl::string_view key, std::string* out) {
  out->append(out->size() > 1 ? ",\"" : "\"");
  out->append(key.data(), key.size());
  out->append("\":");
}

void AppendStringEntry(absl::string_view key, absl::string_view value,
                       std::string* out) {
  AppendKey(key, out);
  AppendJsonString(value, out);
}

// AppendResult writes the result entry, the last of a cache file.
void AppendResult(const google::protobuf::Struct& result, std::string* out) {
  AppendKey("result", out);
  AppendJson(result, out);
}

absl::Status BadField(absl::string_view what, absl::string_view key,
                      absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": invalid JSON: \"", key, "\" must be ", expected));
}

// FromObject fills `file` from a parsed cniCacheV1 object with the same
// rules as protobuf's JSON parser (json or proto field names, null = unset,
// unknown keys ignored, bytes in standard or URL-safe base64), without
// writing the object out and parsing it a second time.
absl::Status FromObject(google::protobuf::Struct object, absl::string_view what,
                        CacheFile* file) {
  using google::protobuf::Value;
  for (auto& [key, value] : *object.mutable_fields()) {
    if (value.kind_case() == Value::kNullValue) continue;
    std::string* text = nullptr;
    if (key == "kind") {
      text = file->mutable_kind();
    } else if (key == "containerId" || key == "container_id") {
      text = file->mutable_container_id();
    } else if (key == "ifName" || key == "if_name") {
      text = file->mutable_if_name();
    } else if (key == "networkName" || key == "network_name") {
      text = file->mutable_network_name();
    } else if (key == "netns") {
      text = file->mutable_netns();
    }
    if (text != nullptr) {
      if (value.kind_case() != Value::kStringValue) {
        return BadField(what, key, "a string");
      }
      *text = std::move(*value.mutable_string_value());
    } else if (key == "config") {
      if (value.kind_case() != Value::kStringValue ||
          !(absl::Base64Unescape(value.string_value(),
                                 file->mutable_config()) ||
            absl::WebSafeBase64Unescape(value.string_value(),
                                        file->mutable_config()))) {
        return BadField(what, key, "base64 text");
      }
    } else if (key == "cniArgs" || key == "cni_args") {
      if (value.kind_case() != Value::kListValue) {
        return BadField(what, key, "an array of arrays");
      }
      for (Value& pair : *value.mutable_list_value()->mutable_values()) {
        if (pair.kind_case() != Value::kListValue) {
          return BadField(what, key, "an array of arrays");
        }
        *file->add_cni_args() = std::move(*pair.mutable_list_value());
      }
    } else if (key == "capabilityArgs" || key == "capability_args" ||
               key == "result") {
      if (value.kind_case() != Value::kStructValue) {
        return BadField(what, key, "an object");
      }
      // Empty capability args are no capability args, as EncodeCacheFile
      // writes them (it leaves the key out): a file reads the same after a
      // round trip. An empty result stays a result.
      if (key != "result" && value.struct_value().fields().empty()) continue;
      *(key == "result" ? file->mutable_result()
                        : file->mutable_capability_args()) =
          std::move(*value.mutable_struct_value());
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> CacheFilePath(absl::string_view cache_dir,
                                          absl::string_view network,
                                          absl::string_view container_id,
                                          absl::string_view ifname) {
  if (cache_dir.empty()) {
    return absl::InvalidArgumentError("cache dir is empty");
  }
  OCICNI_RETURN_IF_ERROR(ValidateNetworkName(network));
  OCICNI_RETURN_IF_ERROR(ValidateContainerId(container_id));
  OCICNI_RETURN_IF_ERROR(ValidateInterfaceName(ifname));
  return absl::StrCat(cache_dir, "/results/", network, "-", container_id, "-",
                      ifname);
}

std::string EncodeCacheFile(const CacheFile& file) {
  std::string out = "{";
  // The base64 config is most of the file.
  out.reserve(256 + file.config().size() * 4 / 3);
  AppendStringEntry("kind", kCacheKind, &out);
  AppendStringEntry("containerId", file.container_id(), &out);
  // Base64 needs no escaping in a JSON string.
  AppendKey("config", &out);
  out.push_back('"');
  out.append(absl::Base64Escape(file.config()));
  out.push_back('"');
  AppendStringEntry("ifName", file.if_name(), &out);
  AppendStringEntry("networkName", file.network_name(), &out);
  if (!file.netns().empty()) AppendStringEntry("netns", file.netns(), &out);
  if (!file.cni_args().empty()) {
    AppendKey("cniArgs", &out);
    out.push_back('[');
    for (int i = 0; i < file.cni_args_size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendJson(file.cni_args(i), &out);
    }
    out.push_back(']');
  }
  if (!file.capability_args().fields().empty()) {
    AppendKey("capabilityArgs", &out);
    AppendJson(file.capability_args(), &out);
  }
  if (file.has_result()) AppendResult(file.result(), &out);
  out.push_back('}');
  return out;
}

std::string EncodeWithResult(std::string encoded,
                             const google::protobuf::Struct& result) {
  // What EncodeCacheFile wrote up to its closing brace, then as it goes on.
  if (!encoded.empty() && encoded.back() == '}') encoded.pop_back();
  AppendResult(result, &encoded);
  encoded.push_back('}');
  return encoded;
}

absl::StatusOr<DecodedCacheFile> DecodeCacheFile(absl::string_view bytes,
                                                 absl::string_view path) {
  std::string what = absl::StrCat("cache file ", path);
  OCICNI_ASSIGN_OR_RETURN(google::protobuf::Struct object,
                          ParseJsonObject(bytes, what));
  DecodedCacheFile decoded;
  auto kind = object.fields().find("kind");
  if (kind == object.fields().end() ||
      kind->second.string_value() != kCacheKind) {
    decoded.legacy = true;
    *decoded.file.mutable_result() = std::move(object);
    return decoded;
  }
  OCICNI_RETURN_IF_ERROR(FromObject(std::move(object), what, &decoded.file));
  return decoded;
}

}  // namespace ocicni::types
