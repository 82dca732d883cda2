// Failure payloads: which network and plugin an error is about, carried in
// the absl::Status so that callers (and ocicnictl's --json errors) need not
// parse messages. Internal; the public accessor is ocicni::FailureOf.
#ifndef OCICNI_OCICNI_FAILURE_H_
#define OCICNI_OCICNI_FAILURE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ocicni {

inline constexpr absl::string_view kFailurePayloadUrl =
    "type.ocicni.dev/ocicni.Failure";

// WithFailure returns `status` with the network and plugin attached (an OK
// status is returned unchanged). An already attached failure is kept.
absl::Status WithFailure(absl::Status status, absl::string_view network,
                         absl::string_view plugin);

}  // namespace ocicni

#endif  // OCICNI_OCICNI_FAILURE_H_
