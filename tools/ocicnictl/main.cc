// ocicnictl: see tools/ocicnictl/ocicnictl.h and `ocicnictl --help`.
#include <iostream>
#include <string>
#include <vector>

#include "glog/logging.h"
#include "tools/ocicnictl/ocicnictl.h"

int main(int argc, char** argv) {
  // A command-line tool logs to stderr, never to files under /tmp.
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  std::vector<std::string> args(argv + 1, argv + argc);
  return ocicni::ctl::Run(args, std::cout, std::cerr);
}
