// File helpers for tests: read and write whole files, write via rename,
// create and remove directory trees, and wait for a condition with a bound.
//
//   testutil::WriteFile(dir + "/10-a.conflist", R"({...})");
//   EXPECT_EQ(testutil::ReadFile(path), "...");
//   EXPECT_TRUE(testutil::WaitFor([&] { return Loaded("a"); }));
//
// Failures are reported with ADD_FAILURE (the current test fails and goes
// on); nothing throws.
#ifndef OCICNI_TESTING_FILES_H_
#define OCICNI_TESTING_FILES_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ocicni::testutil {

// ReadFile returns the contents of `path`, "" when it cannot be read.
std::string ReadFile(const std::string& path);

// WriteFile creates or truncates `path` (mode 0644) and writes `contents`.
void WriteFile(const std::string& path, absl::string_view contents);

// WriteFileAtomically writes `contents` to a hidden temporary file next to
// `path` and renames it over `path`.
void WriteFileAtomically(const std::string& path, absl::string_view contents);

// MakeDir creates `path` (mode 0755); it may exist already.
void MakeDir(const std::string& path);

// RemoveAll removes `path` and everything under it; missing is fine.
void RemoveAll(const std::string& path);

// MakeAccessTimeStale sets the access time of `path` an hour before its
// modification time, which it keeps: a later read updates it wherever the
// file system keeps access times (atime, relatime, strictatime).
void MakeAccessTimeStale(const std::string& path);

// AccessTime returns the access time of `path` (InfinitePast when it cannot
// be read).
absl::Time AccessTime(const std::string& path);

// TopLevelKeys lists the keys of the JSON object in `json` in the order the
// text has them (for checking another tool's key order, which parsing into
// a map would lose).
std::vector<std::string> TopLevelKeys(absl::string_view json);

// WaitFor polls `condition` every few milliseconds until it holds or
// `timeout` passes; returns whether it held. The timeout only catches hangs.
bool WaitFor(const std::function<bool()>& condition,
             absl::Duration timeout = absl::Seconds(10));

// ReadFileOnceItHas waits (as WaitFor) until the file at `path` contains
// `needle` and returns its contents; e.g. a result cache entry, whose ADD
// result lands on disk in the background after SetUpPod returns.
std::string ReadFileOnceItHas(const std::string& path, absl::string_view needle,
                              absl::Duration timeout = absl::Seconds(10));

}  // namespace ocicni::testutil

#endif  // OCICNI_TESTING_FILES_H_
