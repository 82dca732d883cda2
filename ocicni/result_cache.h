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
// Entry files are padded with spaces to a multiple of kPaddedSize bytes
// (JSON allows whitespace after the value; libcni and every JSON reader
// skip it), so that refilling a spare almost never changes its size.
//
// Three things keep the per-pod cost low under churn:
// - Inodes and their blocks are recycled. Remove renames an entry to a
//   spare instead of unlinking it; a write over an existing entry exchanges
//   the two names (renameat2 RENAME_EXCHANGE), so the old inode becomes a
//   spare too; and Write refills a spare instead of creating a file.
//   Allocating an inode is the expensive part of a create on some file
//   systems (ext4 without a journal scans past every recently deleted
//   inode), and freeing a block costs a synchronous discard on file systems
//   mounted with `discard`.
//   Spares, and files being written, live in a directory of each instance's
//   own under `results/.spares/` (at most kMaxSpares spares per instance,
//   spread over kSpareShards subdirectories), out of sight of every reader
//   of entries: libcni skips what it cannot read as a file, and List skips
//   dot names. The instance holds a flock on its directory; the first write
//   or removal of an instance removes the directories of instances that
//   are gone (a crash, a kill), and the destructor removes its own.
//   A spare is left untouched for `reuse_after` (default kReuseAfter)
//   after it stopped being an entry, then refilled oldest first: a reader
//   (any process) that opened the entry just before it was removed or
//   replaced reads the entry it opened, as after an unlink or a rename, and
//   never another pod's entry written later.
// - Decoded entries are remembered by content: a read whose bytes equal the
//   bytes last written or read at that path returns the remembered decoding
//   instead of parsing the JSON again (at most kMaxRemembered entries).
// - Background writes are committed in groups: the data of every file in
//   a group is written out, then one flush of the device's write cache
//   makes all of it durable, instead of one fdatasync (and its flush) per
//   file; then the renames, and one directory fsync for the group. While
//   several pods write at once, the worker waits up to kGroupWindow for a
//   group as large as the last one, unless a caller waits for a queued job.
//   A write behind (the complete entry, see below) is held kBehindHold:
//   a group that forms meanwhile leaves it queued, and an entry removed in
//   that time (a pod that lived only milliseconds) is never written
//   twice. Then it goes, with any other write that is due or queued.
//
// Durable writes off the critical path (StartWrite + Complete): an ADD
// first writes the entry without its result (what DEL needs: config,
// CNI_ARGS, capability args) durably in the background while the plugins
// run, then hands the entry with the result to Complete. When the first
// write has not started yet (it waits in the queue behind other pods'
// writes), the complete entry is written in its place: one write instead
// of two. Otherwise Complete waits for the first entry to land and writes
// the complete one behind (WriteBehind), which fsyncs it in the background
// and renames it over the first. This instance's reads see the result at
// once; on disk the name holds, at every instant, nothing, the first entry
// or the complete one, never a torn file. Remove does not wait for a write
// behind: it drops it from the queue, or calls it off while the worker
// commits it (it is then not renamed into place).
//
// Thread-safety: all methods may be called concurrently; callers serialize
// operations on the same attachment (the library's per-pod lock does).
#ifndef OCICNI_OCICNI_RESULT_CACHE_H_
#define OCICNI_OCICNI_RESULT_CACHE_H_

#include <sys/stat.h>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/posix.h"
#include "types/cache.h"
#include "types/cni.pb.h"

namespace ocicni {

class ResultCache {
 public:
  // A cache entry larger than this is treated as corrupt.
  static constexpr size_t kMaxEntryBytes = 4 << 20;
  // Removed or replaced entries kept as spare inodes for later writes (at
  // most 16 MiB of 4 KiB files). A pool needs about what the instance
  // retires in kReuseAfter, ~1000 spares at 600 pods/s; with too small a
  // cap it overflows and runs dry by turns, unlinking and creating files.
  static constexpr size_t kMaxSpares = 4096;
  // How long a spare stays untouched before a write may refill it.
  static constexpr absl::Duration kReuseAfter = absl::Seconds(1);
  // How long a write behind stays in the queue before it is written (a
  // Remove in that time drops it unwritten). Another tool that reads the
  // entry meanwhile finds it without the result.
  static constexpr absl::Duration kBehindHold = absl::Milliseconds(10);
  // Spares are spread over this many subdirectories of an instance's
  // directory (spare `id` in subdirectory `id % kSpareShards`). Renaming a
  // file into or out of a directory scans the directory block its name
  // hashes to, once per lookup (three per retire); a pool of ~1000 spares
  // in one directory fills blocks of ~250 names each, a subdirectory keeps
  // ~30 in one block.
  static constexpr uint64_t kSpareShards = 32;
  // Decoded entries remembered for reads of unchanged files.
  static constexpr size_t kMaxRemembered = 256;
  // Entry files are padded to a multiple of this many bytes.
  static constexpr size_t kPaddedSize = 4096;

  // Pending is a write running in the background.
  class Pending {
   public:
    Pending() = default;
    // Wait blocks until the write is done and returns its status.
    absl::Status Wait();

   private:
    friend class ResultCache;
    struct State {
      absl::Mutex mu;
      bool done ABSL_GUARDED_BY(mu) = false;
      absl::Status status ABSL_GUARDED_BY(mu);
      // The entry StartWrite writes, its path and its JSON (unpadded), for
      // Complete; set before the write starts, used by the owner only.
      std::string path;
      types::CacheFile entry;
      std::string json;
    };
    explicit Pending(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
  };

  explicit ResultCache(std::string cache_dir, bool durable = true,
                       absl::Duration reuse_after = kReuseAfter,
                       absl::Duration behind_hold = kBehindHold,
                       size_t max_spares = kMaxSpares);
  // Unlinks this instance's spares.
  ~ResultCache();
  ResultCache(const ResultCache&) = delete;
  ResultCache& operator=(const ResultCache&) = delete;

  const std::string& dir() const { return dir_; }
  std::string ResultsDir() const { return dir_ + "/results"; }
  // Where spares and files being written live, in a directory per
  // instance (see above).
  std::string SparesDir() const { return dir_ + "/results/.spares"; }

  // Write stores `file` (kind cniCacheV1) under its network/container/ifname,
  // creating <dir>/results (0700) when needed. Errors: kInvalidArgument for
  // an invalid name, ErrnoToStatus codes for I/O (kPermissionDenied,
  // kResourceExhausted for ENOSPC, ...), naming the path.
  absl::Status Write(const types::CacheFile& file) const;

  // StartWrite runs Write(file) in the background; without `durable` it
  // writes at once (the Pending is done when it returns).
  Pending StartWrite(types::CacheFile file) const;

  // Complete finishes the entry that `first` (a StartWrite) writes with
  // the ADD's `result`, once per StartWrite. On return the entry is durable
  // on disk, with the result or (written behind, see WriteBehind) without
  // it for a moment; this instance's reads see the result. Errors: those of
  // the first write.
  absl::Status Complete(Pending& first, google::protobuf::Struct result) const;

  // WriteBehind replaces the entry by `file`: at once for this instance's
  // Read/List, and on disk (fsync'ed, then renamed into place) in the
  // background (the worker fills the file too). The entry must already be
  // on disk durably (StartWrite done). Write of the same entry waits for
  // it to land; Remove calls it off (see Remove). A failure to land is
  // logged, and the entry written before stays. Without `durable` it is
  // Write. Errors: an invalid name.
  absl::Status WriteBehind(const types::CacheFile& file) const;

  // Read returns the entry, std::nullopt when there is none (ENOENT, or an
  // unreadable/irregular file is reported as an error instead). Errors:
  // kInvalidArgument for an invalid name or a corrupt entry (the caller may
  // Remove it), I/O errors naming the path.
  absl::StatusOr<std::optional<types::DecodedCacheFile>> Read(
      absl::string_view network, absl::string_view container_id,
      absl::string_view ifname) const;

  // Remove deletes the entry; a missing entry is OK. It does not wait for
  // a write behind of the entry: one still queued is dropped unwritten,
  // one being committed is not renamed into place.
  absl::Status Remove(absl::string_view network, absl::string_view container_id,
                      absl::string_view ifname) const;

  // ListAttachments returns the cniCacheV1 entries that belong to
  // `container_id` (sorted by file name), skipping entries that cannot be
  // read or parsed, whose containerId differs, that lack ifName or
  // networkName, or that are for loopback ("lo", "cni-loopback"). A missing
  // results directory is an empty list.
  absl::StatusOr<std::vector<types::CacheFile>> ListAttachments(
      absl::string_view container_id) const;

  // CommitStats counts what the durable writes of this instance did.
  struct CommitStats {
    // Files made durable by writing out their data in place, with a flush
    // shared by their group (see CommitGroup in the .cc file).
    uint64_t in_place = 0;
    // Files made durable by an fdatasync of their own.
    uint64_t synced = 0;
    // Flushes shared by the in-place files of a group.
    uint64_t shared_flushes = 0;
    // ADD entries written once, with their result, because their first
    // write had not started when Complete came (see Complete).
    uint64_t completed_before_written = 0;
    // Writes behind dropped unwritten because Remove came while they were
    // queued, and those called off (written, not renamed into place)
    // because Remove came while the worker committed them (see Remove).
    uint64_t dropped_behind = 0;
    uint64_t called_off_behind = 0;
  };
  CommitStats Stats() const;

  // ListAll returns every readable cniCacheV1 entry with a containerId,
  // ifName and networkName, sorted by file name; loopback entries included.
  absl::StatusOr<std::vector<types::CacheFile>> ListAll() const;

 private:
  absl::StatusOr<std::vector<types::CacheFile>> List(
      absl::string_view container_id, bool skip_loopback) const;

  struct Temp {
    std::string name;
    UniqueFd fd;
    // Size when opened, and whether its size and allocation are on disk
    // (a settled spare, see FileId).
    off_t size = 0;
    bool settled = false;
    // Filled without changing its size, settled, on a file system that
    // overwrites such files in place: its data alone makes it durable.
    bool in_place = false;
    // Its data, size and allocation are on disk (set by the commit).
    bool synced = false;
    struct stat filled = {};
  };
  // OpenTemp opens a spare or a new temporary file for an entry.
  absl::StatusOr<Temp> OpenTemp() const;
  // Fill makes `json`, padded, the whole content of `temp` (not synced).
  absl::Status Fill(Temp& temp, absl::string_view json) const;
  // Place renames the filled `temp` to `path`: exchanged with an entry
  // there (the old inode becomes a spare) or renamed. Closes the temp; on
  // failure it is unlinked.
  absl::Status Place(Temp temp, const std::string& path) const;
  absl::Status SyncDir() const;
  // WriteNow writes `json`, padded, at `path` and remembers `decoded` as
  // what it holds (or forgets the path, with nullptr).
  absl::Status WriteNow(const std::string& path, std::string json,
                        std::shared_ptr<const types::DecodedCacheFile> decoded,
                        bool sync_dir) const;
  // WriteBehindEncoded is WriteBehind of the file `decoded`, whose JSON is
  // `json`.
  absl::Status WriteBehindEncoded(
      const std::string& path, std::string json,
      std::shared_ptr<const types::DecodedCacheFile> decoded) const;
  static std::shared_ptr<const types::DecodedCacheFile> Written(
      types::CacheFile file);
  void WaitForWriteBehind(const std::string& path) const;
  std::shared_ptr<const types::DecodedCacheFile> Behind(
      const std::string& path) const;

  // Job is a background write: `json` (written, padded, by the worker into
  // a spare or new file, `temp`) to become the entry at `path`. With
  // `new_name` the name must be durable too when `done` runs.
  struct Job {
    std::string path;
    // The file's JSON (unpadded), and its decoding for this instance's
    // reads.
    std::string json;
    std::shared_ptr<const types::DecodedCacheFile> decoded;
    std::optional<Temp> temp;
    bool new_name = false;
    // The Pending of a StartWrite (identity only, for Complete).
    const void* pending = nullptr;
    // A write behind (WriteBehindEncoded): Remove may drop it while queued
    // or call it off while the worker commits it.
    bool behind = false;
    // A write behind is not written before `hold_until` unless a caller
    // waits for it (see Work). InfinitePast: not held.
    absl::Time hold_until = absl::InfinitePast();
    // Due: no longer held at `now`, so the next group takes it.
    bool Due(absl::Time now) const { return hold_until <= now; }
    // Called by the worker once the job is committed, with `status` set.
    absl::AnyInvocable<void(Job&)> done;
    absl::Status status;
  };
  // Run queues `job` for the worker, which commits it with the other
  // queued jobs (CommitGroup).
  void Run(Job job) const;
  // Hurry tells the worker that a caller waits for a queued job, so that it
  // commits what is queued without waiting for more.
  void Hurry() const;
  // DropWriteBehind takes the write behind of `path` out of the queue if
  // the worker has not taken it yet: the entry is about to be removed, so
  // its first entry (on disk already) is what Remove retires.
  void DropWriteBehind(const std::string& path) const;
  // CallOffWriteBehind makes sure the write behind of `path` that the
  // worker has taken is not renamed into place, or has been already: when
  // it returns, a removal of the entry is final.
  void CallOffWriteBehind(const std::string& path) const;
  // StartPlacing tells whether the write behind of `path` may be renamed
  // into place (not called off) and marks it as being renamed until
  // DonePlacing.
  bool StartPlacing(const std::string& path) const;
  void DonePlacing(const std::string& path) const;
  void Work() const;
  void CommitGroup(std::vector<Job>& group) const;
  bool InPlaceFileSystem(int fd) const;
  // FlushDevice flushes the write cache of the device under `written_fd`
  // (a file whose data was just written out) with as little else written
  // as the file system allows; returns what fsync(2) returns.
  int FlushDevice(int written_fd) const;

  // Load is Read of an entry's path: the write behind in flight, or the
  // file's decoding.
  absl::StatusOr<std::optional<types::DecodedCacheFile>> Load(
      const std::string& path) const;
  // Decode returns the decoding of `bytes` read from `path`, remembered or
  // parsed (and then remembered).
  absl::StatusOr<types::DecodedCacheFile> Decode(const std::string& path,
                                                 std::string bytes) const;
  // Remember keeps `decoded` as what the file at `path` holds: `json`,
  // padded as this instance writes it (at most kMaxRemembered paths: a new
  // one pushes another out).
  void Remember(const std::string& path, std::string json,
                std::shared_ptr<const types::DecodedCacheFile> decoded) const;
  // RememberFile keeps `decoded` as what the file at `path` holds when it
  // has `size` bytes: `json`, then padding if it is longer.
  void RememberFile(const std::string& path, std::string json, size_t size,
                    std::shared_ptr<const types::DecodedCacheFile> decoded)
      const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Forget(const std::string& path) const;

  // A spare file: its number in this instance's spares directory (the
  // file is SparePath(id); numbers are never reused, so one left from a
  // directory that was removed behind this instance's back names nothing),
  // whether its size and allocation are known to be on disk (it was an
  // entry this instance made durable, FileId matched), and when it stopped
  // being an entry.
  struct Spare {
    uint64_t id = 0;
    bool settled = false;
    absl::Time retired;
  };
  // OpenSpare opens the oldest spare retired at least reuse_after ago for
  // rewriting and sets `*spare`, `*path` and `*st`; -1 when there is none
  // usable.
  int OpenSpare(Spare* spare, std::string* path, struct stat* st) const;
  // SparePath is the file of spare `id`; empty when this instance has no
  // spares directory (then the spare is gone).
  std::string SparePath(uint64_t id) const;
  // SpareFile is the file of spare `id` in the spares directory `own`.
  static std::string SpareFile(absl::string_view own, uint64_t id);
  // SpareId is the number of the spare file `name`; nullopt when it is not
  // a file of this instance's spares directory.
  std::optional<uint64_t> SpareId(const std::string& name) const;
  // RetireToSpare moves the regular file at `path` out of the way as a
  // spare: true when done, false when the caller should unlink instead
  // (no room, not a regular file, or the rename failed; errno is then
  // that of the failure, ENOENT when nothing is there).
  bool RetireToSpare(const std::string& path) const;
  // KeepSpare keeps the file at `name` as a spare retired now (`settled`:
  // see Spare), or unlinks it when there is no room.
  void KeepSpare(std::string name, bool settled) const;
  // Settled reports whether `st` (of the entry at `path`) is the file this
  // instance made durable there, untouched since, and forgets it.
  bool Settled(const std::string& path, const struct stat& st) const;
  // A new name for a spare in this instance's own spares directory; files
  // being written carry one too. Errors: those of OwnSparesDir.
  absl::StatusOr<std::string> NewSpareName() const;
  // OwnSparesDir returns this instance's directory in SparesDir, making it
  // with its kSpareShards subdirectories (and the results directory, 0700)
  // and sweeping what dead instances left the first time. Errors: ErrnoToStatus
  // of the mkdir/open/flock, naming the directory.
  absl::StatusOr<std::string> OwnSparesDir() const;
  // DropOwnSparesDir forgets this instance's spares directory when it was
  // removed behind its back (`name` was to be in it): the next
  // OwnSparesDir makes a new one. True when it did.
  bool DropOwnSparesDir(const std::string& name) const;
  // RemakeShards makes again the subdirectories of this instance's spares
  // directory that were removed behind its back (`name` was to be in one).
  // True when it made one.
  bool RemakeShards(const std::string& name) const;
  // SweepSpares removes every directory in `all` but `own` whose lock is
  // free (its instance is gone), with what is in it.
  void SweepSpares(const std::string& all, const std::string& own) const;

  std::string dir_;
  bool durable_;

  // A remembered file holds `json`, then padding up to `size` bytes. Only
  // the JSON is kept, not the padded copy (a few KiB per entry).
  struct Remembered {
    std::string json;
    size_t size = 0;
    std::shared_ptr<const types::DecodedCacheFile> decoded;
  };
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, Remembered> remembered_
      ABSL_GUARDED_BY(mu_);
  absl::Duration reuse_after_;
  absl::Duration behind_hold_;
  size_t max_spares_;
  // Oldest first.
  mutable std::deque<Spare> spares_ ABSL_GUARDED_BY(mu_);
  // FileId identifies the file an entry is: inode, size, and the time of
  // its last write (a rename does not change it). An entry whose file still
  // matches what this instance made durable was not rewritten by another
  // tool since (which could have left blocks not yet allocated on disk).
  struct FileId {
    ino_t ino = 0;
    off_t size = 0;
    struct timespec mtime = {};
    bool operator==(const FileId& o) const {
      return ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
             mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };
  static FileId IdOf(const struct stat& st) {
    return {st.st_ino, st.st_size, st.st_mtim};
  }
  mutable absl::flat_hash_map<std::string, FileId> durable_files_
      ABSL_GUARDED_BY(mu_);
  mutable uint64_t next_spare_ ABSL_GUARDED_BY(mu_) = 0;
  // This instance's spares directory, and the locked fd that marks it live.
  mutable absl::Mutex spares_mu_ ABSL_ACQUIRED_AFTER(mu_);
  mutable std::string own_spares_ ABSL_GUARDED_BY(spares_mu_);
  mutable UniqueFd spares_lock_ ABSL_GUARDED_BY(spares_mu_);
  // A write behind not yet renamed into place: what this instance reads
  // meanwhile; whether Remove called it off (CallOffWriteBehind); whether
  // the worker is renaming it into place right now.
  struct InFlight {
    std::shared_ptr<const types::DecodedCacheFile> decoded;
    bool called_off = false;
    bool placing = false;
  };
  mutable absl::flat_hash_map<std::string, InFlight> behind_
      ABSL_GUARDED_BY(mu_);

  mutable CommitStats stats_ ABSL_GUARDED_BY(mu_);
  // The kind of file system the entries are on (InPlaceFileSystem).
  mutable std::atomic<int> in_place_fs_{0};

  mutable absl::Mutex jobs_mu_;
  static constexpr size_t kMaxGroup = 64;
  // How long the worker waits for a group to fill up (Work).
  static constexpr absl::Duration kGroupWindow = absl::Milliseconds(2);
  mutable std::deque<Job> jobs_ ABSL_GUARDED_BY(jobs_mu_);
  // One worker: jobs queued while it commits a group form the next group.
  mutable std::optional<std::thread> worker_ ABSL_GUARDED_BY(jobs_mu_);
  bool stopping_ ABSL_GUARDED_BY(jobs_mu_) = false;
  // Jobs in the last group committed.
  mutable size_t last_group_ ABSL_GUARDED_BY(jobs_mu_) = 0;
  // Set when a caller waits for a queued job: the worker stops waiting for
  // its group to fill up (Hurry).
  mutable bool hurry_ ABSL_GUARDED_BY(jobs_mu_) = false;
  // Set when a job that is not held is queued, or any job while the
  // worker is idle (Run).
  mutable bool arrived_ ABSL_GUARDED_BY(jobs_mu_) = false;
  // Set while the worker sleeps without a deadline: nothing was queued
  // for a whole hold (Work).
  mutable bool idle_ ABSL_GUARDED_BY(jobs_mu_) = false;
};

}  // namespace ocicni

#endif  // OCICNI_OCICNI_RESULT_CACHE_H_
