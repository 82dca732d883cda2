#include "config/test_files.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ocicni::config::testfiles {

std::string MakeTempDir(absl::string_view prefix) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl =
      absl::StrCat(base != nullptr ? base : "/tmp", "/", prefix, ".XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << tmpl << ": " << std::strerror(errno);
  }
  return tmpl;
}

std::string ConfList(absl::string_view name, absl::string_view type) {
  return absl::StrCat(R"({"cniVersion":"1.0.0","name":")", name,
                      R"(","plugins":[{"type":")", type, R"("}]})");
}

std::string Conf(absl::string_view name, absl::string_view type) {
  return absl::StrCat(R"({"cniVersion":"1.0.0","name":")", name,
                      R"(","type":")", type, R"("})");
}

}  // namespace ocicni::config::testfiles
