#include "types/request.h"

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "types/json.h"

namespace ocicni::types {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

void PutMessage(const char* key, const google::protobuf::Message& message,
                Struct* out) {
  absl::StatusOr<Value> value = MessageToValue(message);
  if (value.ok()) (*out->mutable_fields())[key] = std::move(*value);
}

Value StringList(const google::protobuf::RepeatedPtrField<std::string>& list) {
  Value v;
  auto* values = v.mutable_list_value();
  for (const std::string& s : list) *values->add_values() = StringValue(s);
  return v;
}

void Inject(Struct* conf, absl::string_view network_name,
            absl::string_view cni_version) {
  (*conf->mutable_fields())["name"] = StringValue(network_name);
  (*conf->mutable_fields())["cniVersion"] = StringValue(cni_version);
}

}  // namespace

Struct CapabilityArgs(const RuntimeConfig& config) {
  Struct out;
  auto& fields = *out.mutable_fields();
  if (!config.port_mappings().empty()) {
    Value list;
    for (const PortMapping& pm : config.port_mappings()) {
      absl::StatusOr<Value> v = MessageToValue(pm);
      if (v.ok()) *list.mutable_list_value()->add_values() = std::move(*v);
    }
    fields["portMappings"] = std::move(list);
  }
  if (config.has_bandwidth()) PutMessage("bandwidth", config.bandwidth(), &out);
  if (!config.ip_ranges().empty()) {
    Value outer;
    for (const IPRangeSet& set : config.ip_ranges()) {
      Value inner;
      inner.mutable_list_value();
      for (const IPRange& range : set.ranges()) {
        absl::StatusOr<Value> v = MessageToValue(range);
        if (v.ok()) *inner.mutable_list_value()->add_values() = std::move(*v);
      }
      *outer.mutable_list_value()->add_values() = std::move(inner);
    }
    fields["ipRanges"] = std::move(outer);
  }
  if (config.has_dns()) PutMessage("dns", config.dns(), &out);
  if (!config.ips().empty()) fields["ips"] = StringList(config.ips());
  if (!config.mac().empty()) fields["mac"] = StringValue(config.mac());
  if (!config.infiniband_guid().empty()) {
    fields["infinibandGUID"] = StringValue(config.infiniband_guid());
  }
  if (!config.device_id().empty()) {
    fields["deviceID"] = StringValue(config.device_id());
  }
  if (!config.aliases().empty())
    fields["aliases"] = StringList(config.aliases());
  if (!config.cgroup_path().empty()) {
    fields["cgroupPath"] = StringValue(config.cgroup_path());
  }
  if (!config.pod_annotations().empty()) {
    Value annotations;
    auto& a = *annotations.mutable_struct_value()->mutable_fields();
    for (const auto& [k, v] : config.pod_annotations()) a[k] = StringValue(v);
    fields["io.kubernetes.cri.pod-annotations"] = std::move(annotations);
  }
  return out;
}

absl::StatusOr<std::string> BuildPluginRequest(const Struct& plugin_conf,
                                               absl::string_view network_name,
                                               absl::string_view cni_version,
                                               const Value* prev_result,
                                               const Struct& capability_args) {
  Value runtime_config;
  auto caps = plugin_conf.fields().find("capabilities");
  if (caps != plugin_conf.fields().end()) {
    if (caps->second.kind_case() != Value::kStructValue) {
      return absl::InvalidArgumentError(
          absl::StrCat("network ", network_name,
                       ": plugin \"capabilities\" must be an object"));
    }
    for (const auto& [name, declared] : caps->second.struct_value().fields()) {
      if (!declared.bool_value()) continue;
      auto arg = capability_args.fields().find(name);
      if (arg == capability_args.fields().end()) continue;
      (*runtime_config.mutable_struct_value()->mutable_fields())[name] =
          arg->second;
    }
  }

  // The plugin's config with the injected keys replaced, written as
  // WriteJson writes an object (keys sorted), without copying it. `name`
  // and `cniVersion` are written from their text (no Value for them).
  struct Entry {
    absl::string_view key;
    const Value* value;      // Written as JSON, or null: then...
    absl::string_view text;  // ...written as a JSON string.
  };
  absl::InlinedVector<Entry, 16> fields;
  fields.reserve(plugin_conf.fields_size() + 4);
  fields.push_back({"name", nullptr, network_name});
  fields.push_back({"cniVersion", nullptr, cni_version});
  if (prev_result != nullptr) fields.push_back({"prevResult", prev_result, {}});
  if (runtime_config.has_struct_value()) {
    fields.push_back({"runtimeConfig", &runtime_config, {}});
  }
  for (const auto& [key, value] : plugin_conf.fields()) {
    if (key == "name" || key == "cniVersion" ||
        (key == "prevResult" && prev_result != nullptr) ||
        (key == "runtimeConfig" && runtime_config.has_struct_value())) {
      continue;
    }
    fields.push_back({key, &value, {}});
  }
  std::sort(fields.begin(), fields.end(),
            [](const Entry& a, const Entry& b) { return a.key < b.key; });
  std::string out = "{";
  out.reserve(512);
  for (const Entry& field : fields) {
    if (out.size() > 1) out.push_back(',');
    AppendJsonString(field.key, &out);
    out.push_back(':');
    if (field.value != nullptr) {
      AppendJson(*field.value, &out);
    } else {
      AppendJsonString(field.text, &out);
    }
  }
  out.push_back('}');
  return out;
}

std::string BuildGCRequest(const Struct& plugin_conf,
                           absl::string_view network_name,
                           absl::string_view cni_version,
                           const std::vector<Attachment>& valid) {
  Struct conf = plugin_conf;
  Inject(&conf, network_name, cni_version);
  Value list;
  list.mutable_list_value();
  for (const Attachment& a : valid) {
    Value entry;
    auto& f = *entry.mutable_struct_value()->mutable_fields();
    f["containerID"] = StringValue(a.container_id);
    f["ifname"] = StringValue(a.ifname);
    *list.mutable_list_value()->add_values() = std::move(entry);
  }
  (*conf.mutable_fields())["cni.dev/valid-attachments"] = list;
  (*conf.mutable_fields())["cni.dev/attachments"] = std::move(list);
  return WriteJson(conf);
}

}  // namespace ocicni::types
