// Status propagation macros.
//
// Abseil 20220623 (the version Debian ships) has no RETURN_IF_ERROR or
// ASSIGN_OR_RETURN; these are the project's small equivalents.
//
//   absl::StatusOr<Config> Load(absl::string_view path) {
//     OCICNI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
//     OCICNI_RETURN_IF_ERROR(Validate(bytes));
//     return Parse(bytes);
//   }
#ifndef OCICNI_BASE_STATUS_MACROS_H_
#define OCICNI_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// OCICNI_RETURN_IF_ERROR evaluates `expr` (an absl::Status) and returns it
// from the enclosing function when it is not OK.
#define OCICNI_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status ocicni_status_ = (expr);          \
    if (!ocicni_status_.ok()) return ocicni_status_; \
  } while (false)

#define OCICNI_STATUS_MACROS_CONCAT_INNER_(a, b) a##b
#define OCICNI_STATUS_MACROS_CONCAT_(a, b) \
  OCICNI_STATUS_MACROS_CONCAT_INNER_(a, b)

// OCICNI_ASSIGN_OR_RETURN evaluates `rexpr` (an absl::StatusOr<T>); on error
// it returns the status, otherwise it moves the value into `lhs`, which may be
// a declaration (`auto x`) or an existing variable.
#define OCICNI_ASSIGN_OR_RETURN(lhs, rexpr) \
  OCICNI_ASSIGN_OR_RETURN_IMPL_(            \
      OCICNI_STATUS_MACROS_CONCAT_(ocicni_statusor_, __LINE__), lhs, rexpr)

#define OCICNI_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = *std::move(statusor)

#endif  // OCICNI_BASE_STATUS_MACROS_H_
