#include "types/request.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "types/json.h"

namespace ocicni::types {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

Value StringList(const google::protobuf::RepeatedPtrField<std::string>& list) {
  Value v;
  auto* values = v.mutable_list_value();
  for (const std::string& s : list) *values->add_values() = StringValue(s);
  return v;
}

// The capability messages are written from their generated accessors, as
// MessageToValue writes them (json_name keys, fields at their default left
// out), but without protobuf's reflection: its first use in a process
// builds the descriptors, code and heap that then stay resident (see
// MessageReader in json.h).
using Fields = google::protobuf::Map<std::string, Value>;

void PutInt(Fields& fields, const char* key, int32_t n) {
  if (n != 0) fields[key].set_number_value(n);
}

void PutString(Fields& fields, const char* key, const std::string& s) {
  if (!s.empty()) fields[key] = StringValue(s);
}

void PutStrings(Fields& fields, const char* key,
                const google::protobuf::RepeatedPtrField<std::string>& list) {
  if (!list.empty()) fields[key] = StringList(list);
}

// PutDouble reports false for a value MessageToValue does not write as a
// number (not finite). Like reflection it tells a set field by its bits, so
// -0 is written (as 0).
bool PutDouble(Fields& fields, const char* key, double d) {
  if (!std::isfinite(d)) return false;
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  if (bits != 0) fields[key].set_number_value(d);
  return true;
}

Value PortMappingValue(const PortMapping& pm) {
  Value v;
  Fields& f = *v.mutable_struct_value()->mutable_fields();
  PutInt(f, "hostPort", pm.host_port());
  PutInt(f, "containerPort", pm.container_port());
  PutString(f, "protocol", pm.protocol());
  PutString(f, "hostIP", pm.host_ip());
  return v;
}

absl::StatusOr<Value> BandwidthValue(const Bandwidth& bw) {
  Value v;
  Fields& f = *v.mutable_struct_value()->mutable_fields();
  if (PutDouble(f, "ingressRate", bw.ingress_rate()) &&
      PutDouble(f, "ingressBurst", bw.ingress_burst()) &&
      PutDouble(f, "egressRate", bw.egress_rate()) &&
      PutDouble(f, "egressBurst", bw.egress_burst())) {
    return v;
  }
  // Not a number: protobuf's printer writes it (as a string).
  return MessageToValue(bw);
}

Value IPRangeValue(const IPRange& range) {
  Value v;
  Fields& f = *v.mutable_struct_value()->mutable_fields();
  PutString(f, "subnet", range.subnet());
  PutString(f, "rangeStart", range.range_start());
  PutString(f, "rangeEnd", range.range_end());
  PutString(f, "gateway", range.gateway());
  return v;
}

Value DNSConfigValue(const DNSConfig& dns) {
  Value v;
  Fields& f = *v.mutable_struct_value()->mutable_fields();
  PutStrings(f, "servers", dns.servers());
  PutStrings(f, "searches", dns.searches());
  PutStrings(f, "options", dns.options());
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
      *list.mutable_list_value()->add_values() = PortMappingValue(pm);
    }
    fields["portMappings"] = std::move(list);
  }
  if (config.has_bandwidth()) {
    absl::StatusOr<Value> bandwidth = BandwidthValue(config.bandwidth());
    if (bandwidth.ok()) fields["bandwidth"] = *std::move(bandwidth);
  }
  if (!config.ip_ranges().empty()) {
    Value outer;
    for (const IPRangeSet& set : config.ip_ranges()) {
      Value inner;
      inner.mutable_list_value();
      for (const IPRange& range : set.ranges()) {
        *inner.mutable_list_value()->add_values() = IPRangeValue(range);
      }
      *outer.mutable_list_value()->add_values() = std::move(inner);
    }
    fields["ipRanges"] = std::move(outer);
  }
  if (config.has_dns()) fields["dns"] = DNSConfigValue(config.dns());
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
