// Sets a pod up on a network and tears it down again through @ocicni//ocicni,
// as a runtime would. The network uses the example's own echo-plugin, so no
// root or namespace is needed.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <string>

#include "ocicni/ocicni.h"

int main(int argc, char** argv) {
  char tmpl[] = "/tmp/ocicni-consumer-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string conf_dir = dir + "/net.d";
  const std::string plugin_dir = dir + "/bin";
  mkdir(conf_dir.c_str(), 0755);
  mkdir(plugin_dir.c_str(), 0755);
  // The plugin sits next to this binary in its runfiles.
  std::string self = argv[0];
  std::string plugin = self.substr(0, self.rfind('/') + 1) + "echo-plugin";
  if (symlink(realpath(plugin.c_str(), nullptr),
              (plugin_dir + "/echo").c_str())) {
    std::cerr << "cannot link " << plugin << "\n";
    return 1;
  }
  std::ofstream(conf_dir + "/10-example.conflist")
      << R"({"cniVersion":"1.0.0","name":"example","plugins":[{"type":"echo"}]})";

  ocicni::Options options;
  options.conf_dirs = {conf_dir};
  options.plugin_dirs = {plugin_dir};
  options.cache_dir = dir + "/cache";
  options.watch = false;
  options.bring_up_loopback = false;
  auto cni = ocicni::InitCNI(options);
  if (!cni.ok()) {
    std::cerr << cni.status() << "\n";
    return 1;
  }
  ocicni::PodNetwork pod;
  pod.name = "demo";
  pod.namespace_ = "default";
  pod.id = "0123456789abcdef";
  pod.netns = "/var/run/netns/demo";
  auto results = (*cni)->SetUpPod(pod);
  if (!results.ok()) {
    std::cerr << "SetUpPod: " << results.status() << "\n";
    return 1;
  }
  for (const auto& r : *results) {
    std::cout << r.network << " " << r.ifname << " "
              << r.result.ips(0).address() << "\n";
  }
  auto ip = (*cni)->GetContainerNetworkStatus(pod.netns, pod.namespace_,
                                              pod.name, pod.id);
  std::cout << "status: " << (ip.ok() ? *ip : ip.status().ToString()) << "\n";
  absl::Status down = (*cni)->TearDownPod(pod);
  std::cout << "teardown: " << down << "\n";
  (*cni)->Shutdown();
  std::string cleanup = "rm -rf " + dir;
  return (down.ok() && ip.ok() && system(cleanup.c_str()) == 0) ? 0 : 1;
}
