// ResultCache keeps each attachment's ADD result on disk in libcni's format
// and location (<cache_dir>/results/<network>-<containerId>-<ifname>), so
// that other CNI tools on the node (CRI-O, containerd, podman, cnitool) and
// this library read each other's entries.
//
//   ResultCache cache("/var/lib/cni");
//   OCICNI_RETURN_IF_ERROR(cache.Write(file));       // atomic, 0600
//   OCICNI_ASSIGN_OR_RETURN(auto entry, cache.Read("net", "cid", "eth0"));
//   if (entry.has_value()) { ... }
//   OCICNI_RETURN_IF_ERROR(cache.Remove("net", "cid", "eth0"));
//
// Writes go to a temporary file in the same directory that is renamed over
// the entry, so a reader never sees half a file; with `durable` (the default)
// the file and the directory are fsync'ed before Write returns. Every name is
// validated (types::CacheFilePath), so no value can address a file outside
// the results directory.
//
// Two things keep the per-pod cost low under churn:
// - Inodes are recycled. Remove renames the entry to a hidden spare
//   (`.spare-<pid>-<n>`, at most kMaxSpares per instance) instead of
//   unlinking it (and truncates it), and Write refills a spare instead of
//   creating a file. Allocating an inode is the expensive part of a create
//   on some file systems (ext4 without a journal scans past every recently
//   deleted inode). Spares are ignored by every reader (libcni only opens
//   exact entry names; List skips dot files) and unlinked by the destructor.
// - Decoded entries are remembered by content: a read whose bytes equal the
//   bytes last written or read at that path returns the remembered decoding
//   instead of parsing the JSON again (at most kMaxRemembered entries).
//
// Thread-safety: all methods may be called concurrently; callers serialize
// operations on the same attachment (the library's per-pod lock does).
#ifndef OCICNI_OCICNI_RESULT_CACHE_H_
#define OCICNI_OCICNI_RESULT_CACHE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "types/cache.h"
#include "types/cni.pb.h"

namespace ocicni {

class ResultCache {
 public:
  // A cache entry larger than this is treated as corrupt.
  static constexpr size_t kMaxEntryBytes = 4 << 20;
  // Removed entries kept as spare inodes for later writes.
  static constexpr size_t kMaxSpares = 16;
  // Decoded entries remembered for reads of unchanged files.
  static constexpr size_t kMaxRemembered = 256;

  explicit ResultCache(std::string cache_dir, bool durable = true);
  // Unlinks this instance's spares.
  ~ResultCache();
  ResultCache(const ResultCache&) = delete;
  ResultCache& operator=(const ResultCache&) = delete;

  const std::string& dir() const { return dir_; }
  std::string ResultsDir() const { return dir_ + "/results"; }

  // Write stores `file` (kind cniCacheV1) under its network/container/ifname,
  // creating <dir>/results (0700) when needed. Errors: kInvalidArgument for
  // an invalid name, ErrnoToStatus codes for I/O (kPermissionDenied,
  // kResourceExhausted for ENOSPC, ...), naming the path.
  absl::Status Write(const types::CacheFile& file) const;

  // Read returns the entry, std::nullopt when there is none (ENOENT, or an
  // unreadable/irregular file is reported as an error instead). Errors:
  // kInvalidArgument for an invalid name or a corrupt entry (the caller may
  // Remove it), I/O errors naming the path.
  absl::StatusOr<std::optional<types::DecodedCacheFile>> Read(
      absl::string_view network, absl::string_view container_id,
      absl::string_view ifname) const;

  // Remove deletes the entry; a missing entry is OK.
  absl::Status Remove(absl::string_view network, absl::string_view container_id,
                      absl::string_view ifname) const;

  // ListAttachments returns the cniCacheV1 entries that belong to
  // `container_id` (sorted by file name), skipping entries that cannot be
  // read or parsed, whose containerId differs, that lack ifName or
  // networkName, or that are for loopback ("lo", "cni-loopback"). A missing
  // results directory is an empty list.
  absl::StatusOr<std::vector<types::CacheFile>> ListAttachments(
      absl::string_view container_id) const;

  // ListAll returns every readable cniCacheV1 entry with a containerId,
  // ifName and networkName, sorted by file name; loopback entries included.
  absl::StatusOr<std::vector<types::CacheFile>> ListAll() const;

 private:
  absl::StatusOr<std::vector<types::CacheFile>> List(
      absl::string_view container_id, bool skip_loopback) const;

  // Decode returns the decoding of `bytes` read from `path`, remembered or
  // parsed (and then remembered).
  absl::StatusOr<types::DecodedCacheFile> Decode(const std::string& path,
                                                 std::string bytes) const;
  void Remember(const std::string& path, std::string bytes,
                types::DecodedCacheFile decoded) const;
  void Forget(const std::string& path) const;

  // OpenSpare opens a spare for rewriting (truncated) and sets `*name`;
  // -1 when there is none usable.
  int OpenSpare(std::string* name) const;
  // RetireToSpare moves the regular file at `path` out of the way as a
  // spare: true when done, false when the caller should unlink instead
  // (no room, not a regular file, or the rename failed; errno is then
  // that of the failure, ENOENT when nothing is there).
  bool RetireToSpare(const std::string& path) const;

  std::string dir_;
  bool durable_;

  struct Remembered {
    std::string bytes;
    std::shared_ptr<const types::DecodedCacheFile> decoded;
  };
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, Remembered> remembered_
      ABSL_GUARDED_BY(mu_);
  mutable std::vector<std::string> spares_ ABSL_GUARDED_BY(mu_);
  mutable uint64_t next_spare_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ocicni

#endif  // OCICNI_OCICNI_RESULT_CACHE_H_
