// noop_plugin: the cheapest CNI plugin that follows the protocol. It reads
// its config to EOF, prints a minimal 1.1.0 result for ADD and the supported
// versions for VERSION, and exits 0 for everything else. No libraries beyond
// libc, statically linked: benchmarks use it as the floor of a plugin call.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace {

void WriteAll(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(STDOUT_FILENO, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

constexpr char kAddResult[] =
    "{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\","
    "\"sandbox\":\"/var/run/netns/noop\"}],\"ips\":[{\"address\":"
    "\"10.88.0.2/16\",\"gateway\":\"10.88.0.1\",\"interface\":0}]}";
constexpr char kVersion[] =
    "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.1.0\",\"0.2.0\","
    "\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}";

}  // namespace

int main() {
  char buf[16384];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
  }
  const char* command = getenv("CNI_COMMAND");
  if (command == nullptr) return 1;
  if (strcmp(command, "ADD") == 0) {
    WriteAll(kAddResult, sizeof(kAddResult) - 1);
  } else if (strcmp(command, "VERSION") == 0) {
    WriteAll(kVersion, sizeof(kVersion) - 1);
  }
  return 0;
}
