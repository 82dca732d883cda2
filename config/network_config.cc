#include "config/network_config.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "types/json.h"
#include "types/validate.h"
#include "types/version.h"

namespace ocicni::config {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

absl::Status Invalid(absl::string_view path, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", reason));
}

absl::string_view KindName(const Value& value) {
  switch (value.kind_case()) {
    case Value::kNullValue:
    case Value::KIND_NOT_SET:
      return "null";
    case Value::kNumberValue:
      return "a number";
    case Value::kStringValue:
      return "a string";
    case Value::kBoolValue:
      return "a bool";
    case Value::kStructValue:
      return "an object";
    case Value::kListValue:
      return "an array";
  }
  return "unknown";
}

const Value* Field(const Struct& object, absl::string_view key) {
  auto it = object.fields().find(std::string(key));
  return it == object.fields().end() ? nullptr : &it->second;
}

// ReadName reads the required, valid `name`.
absl::StatusOr<std::string> ReadName(const Struct& object,
                                     absl::string_view path) {
  const Value* name = Field(object, "name");
  if (name == nullptr) return Invalid(path, "missing \"name\"");
  if (name->kind_case() != Value::kStringValue) {
    return Invalid(
        path, absl::StrCat("\"name\" must be a string, not ", KindName(*name)));
  }
  absl::Status valid = types::ValidateNetworkName(name->string_value());
  if (!valid.ok()) return Invalid(path, valid.message());
  return name->string_value();
}

// ReadCniVersion reads the optional `cniVersion` as written ("" if absent).
absl::StatusOr<std::string> ReadCniVersion(const Struct& object,
                                           absl::string_view path) {
  const Value* version = Field(object, "cniVersion");
  if (version == nullptr) return std::string();
  if (version->kind_case() != Value::kStringValue) {
    return Invalid(path, absl::StrCat("\"cniVersion\" must be a string, not ",
                                      KindName(*version)));
  }
  return version->string_value();
}

// Negotiate picks the version a network runs at and requires it to be one
// this library speaks.
absl::StatusOr<std::string> Negotiate(const std::string& cni_version,
                                      const std::vector<std::string>& versions,
                                      absl::string_view path) {
  absl::StatusOr<std::string> chosen =
      types::NegotiateVersion(cni_version, versions);
  if (!chosen.ok()) return Invalid(path, chosen.status().message());
  if (!types::IsSupportedVersion(*chosen)) {
    return Invalid(path, absl::StrCat("unsupported cniVersion \"", *chosen,
                                      "\" (this library supports up to ",
                                      types::kCurrentVersion, ")"));
  }
  return *std::move(chosen);
}

// ReadBool reads an optional flag: a JSON bool or "true"/"false" in any case.
absl::StatusOr<bool> ReadBool(const Struct& object, absl::string_view key,
                              absl::string_view path) {
  const Value* value = Field(object, key);
  if (value == nullptr) return false;
  if (value->kind_case() == Value::kBoolValue) return value->bool_value();
  if (value->kind_case() == Value::kStringValue) {
    std::string lower = absl::AsciiStrToLower(value->string_value());
    if (lower == "true") return true;
    if (lower == "false") return false;
    return Invalid(path,
                   absl::StrCat("invalid value \"", value->string_value(),
                                "\" for \"", key, "\": want true or false"));
  }
  return Invalid(path, absl::StrCat("\"", key,
                                    "\" must be a bool or the string "
                                    "\"true\" or \"false\", not ",
                                    KindName(*value)));
}

// ReadPlugin turns one plugin object into a PluginConfig. `where` prefixes
// reasons ("plugins[2]: ") and `missing_type_hint` is appended when `type` is
// absent.
absl::StatusOr<PluginConfig> ReadPlugin(Struct object, absl::string_view path,
                                        absl::string_view where,
                                        absl::string_view missing_type_hint) {
  const Value* type = Field(object, "type");
  if (type == nullptr) {
    return Invalid(path,
                   absl::StrCat(where, "missing \"type\"", missing_type_hint));
  }
  if (type->kind_case() != Value::kStringValue) {
    return Invalid(path, absl::StrCat(where, "\"type\" must be a string, not ",
                                      KindName(*type)));
  }
  absl::Status valid = types::ValidatePluginType(type->string_value());
  if (!valid.ok()) return Invalid(path, absl::StrCat(where, valid.message()));
  PluginConfig plugin;
  plugin.type = type->string_value();
  plugin.conf = std::move(object);
  return plugin;
}

}  // namespace

absl::StatusOr<NetworkConfigList> ParseConfList(
    absl::string_view bytes, absl::string_view path,
    const PluginConfReader& extra_plugins) {
  OCICNI_ASSIGN_OR_RETURN(Struct object, types::ParseJsonObject(bytes, path));
  NetworkConfigList list;
  OCICNI_ASSIGN_OR_RETURN(list.name, ReadName(object, path));
  OCICNI_ASSIGN_OR_RETURN(std::string cni_version,
                          ReadCniVersion(object, path));
  if (const Value* versions = Field(object, "cniVersions")) {
    if (versions->kind_case() != Value::kListValue) {
      return Invalid(path,
                     absl::StrCat("\"cniVersions\" must be an array, not ",
                                  KindName(*versions)));
    }
    for (int i = 0; i < versions->list_value().values_size(); ++i) {
      const Value& entry = versions->list_value().values(i);
      if (entry.kind_case() != Value::kStringValue) {
        return Invalid(
            path, absl::StrCat("cniVersions[", i, "] must be a string, not ",
                               KindName(entry)));
      }
      list.cni_versions.push_back(entry.string_value());
    }
  }
  OCICNI_ASSIGN_OR_RETURN(list.cni_version,
                          Negotiate(cni_version, list.cni_versions, path));
  OCICNI_ASSIGN_OR_RETURN(list.disable_check,
                          ReadBool(object, "disableCheck", path));
  OCICNI_ASSIGN_OR_RETURN(list.disable_gc, ReadBool(object, "disableGC", path));
  OCICNI_ASSIGN_OR_RETURN(list.load_only_inlined_plugins,
                          ReadBool(object, "loadOnlyInlinedPlugins", path));

  if (auto it = object.mutable_fields()->find("plugins");
      it != object.mutable_fields()->end()) {
    Value* plugins = &it->second;
    if (plugins->kind_case() != Value::kListValue) {
      return Invalid(path, absl::StrCat("\"plugins\" must be an array, not ",
                                        KindName(*plugins)));
    }
    auto* entries = plugins->mutable_list_value()->mutable_values();
    if (entries->empty()) return Invalid(path, "\"plugins\" is empty");
    for (int i = 0; i < entries->size(); ++i) {
      std::string where = absl::StrCat("plugins[", i, "]: ");
      Value& entry = (*entries)[i];
      if (entry.kind_case() != Value::kStructValue) {
        return Invalid(path, absl::StrCat(where, "must be an object, not ",
                                          KindName(entry)));
      }
      OCICNI_ASSIGN_OR_RETURN(
          PluginConfig plugin,
          ReadPlugin(std::move(*entry.mutable_struct_value()), path, where,
                     ""));
      list.plugins.push_back(std::move(plugin));
    }
  } else if (list.load_only_inlined_plugins) {
    return Invalid(path,
                   "\"loadOnlyInlinedPlugins\" is true but there is no "
                   "\"plugins\" array");
  }

  if (!list.load_only_inlined_plugins && extra_plugins) {
    absl::StatusOr<std::vector<PluginConfig>> extra = extra_plugins(list.name);
    if (!extra.ok()) {
      return absl::Status(extra.status().code(),
                          absl::StrCat(path, ": ", extra.status().message()));
    }
    for (PluginConfig& plugin : *extra)
      list.plugins.push_back(std::move(plugin));
  }
  if (list.plugins.empty()) return Invalid(path, "no plugin configs found");

  list.bytes = std::string(bytes);
  list.path = std::string(path);
  return list;
}

absl::StatusOr<NetworkConfigList> ParseConf(absl::string_view bytes,
                                            absl::string_view path) {
  OCICNI_ASSIGN_OR_RETURN(Struct object, types::ParseJsonObject(bytes, path));
  NetworkConfigList list;
  OCICNI_ASSIGN_OR_RETURN(list.name, ReadName(object, path));
  OCICNI_ASSIGN_OR_RETURN(std::string cni_version,
                          ReadCniVersion(object, path));
  OCICNI_ASSIGN_OR_RETURN(list.cni_version, Negotiate(cni_version, {}, path));
  OCICNI_ASSIGN_OR_RETURN(
      PluginConfig plugin,
      ReadPlugin(object, path, "",
                 Field(object, "plugins") != nullptr
                     ? "; it has \"plugins\", so it is probably a network "
                       "configuration list saved under the wrong extension "
                       "(name it *.conflist)"
                     : "; a .conf file holds a single plugin (if this is a "
                       "network configuration list, name it *.conflist)"));

  // The list libcni synthesizes for a single plugin: name, the cniVersion as
  // written, and the plugin object, serialized with sorted keys.
  Struct converted;
  auto& fields = *converted.mutable_fields();
  fields["name"] = types::StringValue(list.name);
  fields["cniVersion"] = types::StringValue(cni_version);
  *fields["plugins"].mutable_list_value()->add_values() =
      types::ObjectValue(std::move(object));
  list.converted_bytes = types::WriteJson(converted);

  list.plugins.push_back(std::move(plugin));
  list.bytes = std::string(bytes);
  list.path = std::string(path);
  return list;
}

absl::StatusOr<PluginConfig> ParsePluginConf(absl::string_view bytes,
                                             absl::string_view path) {
  OCICNI_ASSIGN_OR_RETURN(Struct object, types::ParseJsonObject(bytes, path));
  return ReadPlugin(std::move(object), path, "", "");
}

}  // namespace ocicni::config
