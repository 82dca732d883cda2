#include "types/cache.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "types/json.h"
#include "types/validate.h"

namespace ocicni::types {
namespace {

void AppendKey(absl::string_view key, const google::protobuf::Value& value,
               std::string* out) {
  out->append(out->size() > 1 ? ",\"" : "\"");
  out->append(key.data(), key.size());
  out->append("\":");
  out->append(WriteJson(value));
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
  AppendKey("kind", StringValue(kCacheKind), &out);
  AppendKey("containerId", StringValue(file.container_id()), &out);
  AppendKey("config", StringValue(absl::Base64Escape(file.config())), &out);
  AppendKey("ifName", StringValue(file.if_name()), &out);
  AppendKey("networkName", StringValue(file.network_name()), &out);
  if (!file.netns().empty())
    AppendKey("netns", StringValue(file.netns()), &out);
  if (!file.cni_args().empty()) {
    google::protobuf::Value args;
    for (const auto& pair : file.cni_args()) {
      *args.mutable_list_value()->add_values()->mutable_list_value() = pair;
    }
    AppendKey("cniArgs", args, &out);
  }
  if (!file.capability_args().fields().empty()) {
    AppendKey("capabilityArgs", ObjectValue(file.capability_args()), &out);
  }
  if (file.has_result()) AppendKey("result", ObjectValue(file.result()), &out);
  out.push_back('}');
  return out;
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
  OCICNI_RETURN_IF_ERROR(
      ValueToMessage(ObjectValue(std::move(object)), what, &decoded.file));
  return decoded;
}

}  // namespace ocicni::types
