// main() of every integration test binary: as root, the process first
// leaves for a network and mount namespace of its own (EnterPrivateHost),
// which then plays the node's host namespace for the real plugins. Without
// root the tests skip, each saying why.
#include <unistd.h>

#include <iostream>

#include "gtest/gtest.h"
#include "integration/harness.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (geteuid() == 0) {
    absl::Status entered = ocicni::integration::EnterPrivateHost();
    if (!entered.ok()) {
      // As root the suite must run, never skip.
      std::cerr << "cannot set up a private host namespace: " << entered
                << std::endl;
      return 1;
    }
  }
  return RUN_ALL_TESTS();
}
