// OCICNI_FUZZ_CHECK: the properties a fuzz target asserts about the code
// under test, beyond "does not crash".
//
// A failed check prints the condition and a detail (the values involved) to
// stderr and aborts, which libFuzzer reports as a crash and saves the input:
//
//   OCICNI_FUZZ_CHECK(again.ok(), again.status().ToString());
//   OCICNI_FUZZ_CHECK(written == rewritten,
//                     absl::StrCat(written, "\n!=\n", rewritten));
#ifndef OCICNI_FUZZ_CHECK_H_
#define OCICNI_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#include "absl/strings/string_view.h"

namespace ocicni::fuzz {

// CheckFailed reports a failed OCICNI_FUZZ_CHECK and aborts.
[[noreturn]] inline void CheckFailed(const char* file, int line,
                                     const char* condition,
                                     absl::string_view detail) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n%.*s\n", file, line,
               condition, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace ocicni::fuzz

#define OCICNI_FUZZ_CHECK(condition, detail)                               \
  do {                                                                     \
    if (!(condition)) {                                                    \
      ::ocicni::fuzz::CheckFailed(__FILE__, __LINE__, #condition, detail); \
    }                                                                      \
  } while (false)

#endif  // OCICNI_FUZZ_CHECK_H_
