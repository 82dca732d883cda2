#include "testing/files.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ocicni::testutil {

std::string ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

void MakeAccessTimeStale(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    ADD_FAILURE() << "stat " << path << ": " << std::strerror(errno);
    return;
  }
  struct timespec times[2] = {st.st_mtim, {0, UTIME_OMIT}};
  times[0].tv_sec -= 3600;
  if (utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    ADD_FAILURE() << "utimensat " << path << ": " << std::strerror(errno);
  }
}

absl::Time AccessTime(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return absl::InfinitePast();
  return absl::TimeFromTimespec(st.st_atim);
}

void MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    ADD_FAILURE() << "mkdir " << path << ": " << std::strerror(errno);
  }
}

void WriteFile(const std::string& path, absl::string_view contents) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
    return;
  }
  while (!contents.empty()) {
    ssize_t n = write(fd, contents.data(), contents.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ADD_FAILURE() << "write " << path << ": " << std::strerror(errno);
      break;
    }
    contents.remove_prefix(static_cast<size_t>(n));
  }
  close(fd);
}

void WriteFileAtomically(const std::string& path, absl::string_view contents) {
  static std::atomic<int> counter{0};
  size_t slash = path.rfind('/');
  std::string tmp =
      absl::StrCat(path.substr(0, slash + 1), ".tmp-", counter.fetch_add(1),
                   "-", path.substr(slash + 1), "~");
  WriteFile(tmp, contents);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    ADD_FAILURE() << "rename " << tmp << " " << path << ": "
                  << std::strerror(errno);
  }
}

void RemoveAll(const std::string& path) {
  nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int, struct FTW*) {
        if (remove(p) != 0) {
          ADD_FAILURE() << "remove " << p << ": " << std::strerror(errno);
        }
        return 0;
      },
      16, FTW_DEPTH | FTW_PHYS);
}

std::vector<std::string> TopLevelKeys(absl::string_view json) {
  std::vector<std::string> keys;
  int depth = 0;
  bool in_string = false;
  std::string current;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        if (i + 1 < json.size()) current.push_back(json[++i]);
      } else if (c == '"') {
        in_string = false;
        if (depth == 1 && i + 1 < json.size() && json[i + 1] == ':') {
          keys.push_back(current);
        }
      } else {
        current.push_back(c);
      }
    } else if (c == '"') {
      in_string = true;
      current.clear();
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return keys;
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

std::string ReadFileOnceItHas(const std::string& path, absl::string_view needle,
                              absl::Duration timeout) {
  std::string contents;
  WaitFor(
      [&] {
        std::ifstream in(path, std::ios::binary);
        contents.assign(std::istreambuf_iterator<char>(in),
                        std::istreambuf_iterator<char>());
        return absl::StrContains(contents, needle);
      },
      timeout);
  return contents;
}

}  // namespace ocicni::testutil
