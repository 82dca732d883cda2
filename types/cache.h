// libcni's on-disk result cache file, read and written byte-compatibly so
// that other CNI tools on the node (CRI-O, containerd, podman, cnitool) and
// this library share one cache.
//
// The file lives at <cacheDir>/results/<networkName>-<containerId>-<ifName>
// (CacheFilePath). Its JSON has the keys, in this order: kind ("cniCacheV1"),
// containerId, config (base64 of the network config list bytes), ifName,
// networkName, netns, cniArgs ([[k, v], ...]), capabilityArgs, result; empty
// ones are left out, except the first five. Nested objects have sorted keys.
//
//   CacheFile file = ...;
//   std::string bytes = EncodeCacheFile(file);
//   OCICNI_ASSIGN_OR_RETURN(DecodedCacheFile back, DecodeCacheFile(bytes, p));
#ifndef OCICNI_TYPES_CACHE_H_
#define OCICNI_TYPES_CACHE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "types/cni.pb.h"

namespace ocicni::types {

inline constexpr absl::string_view kCacheKind = "cniCacheV1";

// CacheFilePath returns <cache_dir>/results/<network>-<container_id>-<ifname>.
// Errors: kInvalidArgument when a part is empty or not a valid identifier
// (network name, container ID, interface name), so that a hostile value can
// never name a file outside the results directory.
absl::StatusOr<std::string> CacheFilePath(absl::string_view cache_dir,
                                          absl::string_view network,
                                          absl::string_view container_id,
                                          absl::string_view ifname);

// EncodeCacheFile writes `file` as libcni does (kind is forced to
// cniCacheV1).
std::string EncodeCacheFile(const CacheFile& file);

// EncodeWithResult returns EncodeCacheFile of a file with `result` set,
// given `encoded`, EncodeCacheFile of the same file without a result: the
// result is the last key, so the rest is not written again.
std::string EncodeWithResult(std::string encoded,
                             const google::protobuf::Struct& result);

// DecodedCacheFile is a cache file as read: either a cniCacheV1 file, or a
// legacy one that is a bare result (then only `file.result` is set).
struct DecodedCacheFile {
  CacheFile file;
  bool legacy = false;
};

// DecodeCacheFile reads a cache file's bytes; `path` names it in errors.
// A file without kind "cniCacheV1" is read as a legacy bare result.
// Errors: kInvalidArgument for bad JSON or a file that is neither.
absl::StatusOr<DecodedCacheFile> DecodeCacheFile(absl::string_view bytes,
                                                 absl::string_view path);

}  // namespace ocicni::types

#endif  // OCICNI_TYPES_CACHE_H_
