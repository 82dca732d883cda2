// Fuzzes the network config parsers: ParseConfList (.conflist), ParseConf
// (.conf, up-converted to a list) and ParsePluginConf, which read whatever
// anyone with write access to the conf dir put there.
//
// Properties checked for each accepted config:
//   - the name is a valid network name, the version a supported one, and
//     every plugin type a valid plugin type equal to its object's "type";
//   - a list keeps the file's bytes as its Bytes();
//   - a .conf's synthesized list (what the cache stores) parses as a list
//     with the same name, version and plugin.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "config/network_config.h"
#include "fuzz/check.h"
#include "google/protobuf/util/message_differencer.h"
#include "types/validate.h"
#include "types/version.h"

namespace ocicni::fuzz {
namespace {

using config::NetworkConfigList;
using config::PluginConfig;

void CheckPlugin(const PluginConfig& plugin) {
  OCICNI_FUZZ_CHECK(types::ValidatePluginType(plugin.type).ok(), plugin.type);
  auto type = plugin.conf.fields().find("type");
  OCICNI_FUZZ_CHECK(type != plugin.conf.fields().end() &&
                        type->second.string_value() == plugin.type,
                    plugin.type);
}

void CheckList(const NetworkConfigList& list) {
  OCICNI_FUZZ_CHECK(types::ValidateNetworkName(list.name).ok(), list.name);
  OCICNI_FUZZ_CHECK(types::IsSupportedVersion(list.cni_version),
                    list.cni_version);
  OCICNI_FUZZ_CHECK(!list.plugins.empty(), list.name);
  for (const PluginConfig& plugin : list.plugins) CheckPlugin(plugin);
}

}  // namespace
}  // namespace ocicni::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ::google::protobuf::util::MessageDifferencer;
  using ::ocicni::config::NetworkConfigList;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<NetworkConfigList> list =
      ocicni::config::ParseConfList(bytes, "fuzz.conflist");
  if (list.ok()) {
    ocicni::fuzz::CheckList(*list);
    OCICNI_FUZZ_CHECK(list->Bytes() == bytes, "Bytes() is not the file");
  }

  absl::StatusOr<ocicni::config::PluginConfig> plugin =
      ocicni::config::ParsePluginConf(bytes, "fuzz.conf");
  if (plugin.ok()) ocicni::fuzz::CheckPlugin(*plugin);

  absl::StatusOr<NetworkConfigList> conf =
      ocicni::config::ParseConf(bytes, "fuzz.conf");
  if (!conf.ok()) return 0;
  ocicni::fuzz::CheckList(*conf);
  OCICNI_FUZZ_CHECK(conf->plugins.size() == 1, conf->name);
  OCICNI_FUZZ_CHECK(plugin.ok(), plugin.status().ToString());
  const std::string& converted = conf->Bytes();
  absl::StatusOr<NetworkConfigList> reread =
      ocicni::config::ParseConfList(converted, "converted.conflist");
  OCICNI_FUZZ_CHECK(reread.ok(),
                    absl::StrCat(converted, "\n", reread.status().ToString()));
  OCICNI_FUZZ_CHECK(reread->name == conf->name &&
                        reread->cni_version == conf->cni_version &&
                        reread->plugins.size() == 1 &&
                        reread->plugins[0].type == conf->plugins[0].type,
                    converted);
  OCICNI_FUZZ_CHECK(MessageDifferencer::Equals(reread->plugins[0].conf,
                                               conf->plugins[0].conf),
                    converted);
  return 0;
}
