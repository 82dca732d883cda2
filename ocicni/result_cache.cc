#include "ocicni/result_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/posix.h"
#include "base/status_macros.h"
#include "glog/logging.h"

namespace ocicni {
namespace {

absl::Status MkdirAll(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("stat ", path));
    }
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " exists and is not a directory"));
    }
    return absl::OkStatus();
  }
  if (errno != ENOENT)
    return ErrnoToStatus(errno, absl::StrCat("mkdir ", path));
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) {
    return ErrnoToStatus(ENOENT, absl::StrCat("mkdir ", path));
  }
  OCICNI_RETURN_IF_ERROR(MkdirAll(path.substr(0, slash), 0755));
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, absl::StrCat("mkdir ", path));
  }
  return absl::OkStatus();
}

// PaddedSize is the size of the file holding `json_size` bytes of an
// entry's JSON: padded with spaces and a final newline to a multiple of
// kPaddedSize bytes.
size_t PaddedSize(size_t json_size) {
  constexpr size_t kPad = ResultCache::kPaddedSize;
  return (json_size + 1 + kPad - 1) / kPad * kPad;
}

// WritePadded makes `json`, padded to PaddedSize, the whole content of the
// open file `fd`, which may be a spare of `old_size` bytes with older
// content: overwritten in place, then truncated if it was longer. The
// padding is written from a constant buffer: no padded copy is built.
absl::Status WritePadded(int fd, absl::string_view json, off_t old_size,
                         const std::string& path) {
  static const std::string* const kSpaces =
      new std::string(ResultCache::kPaddedSize, ' ');
  const size_t size = PaddedSize(json.size());
  const absl::string_view parts[] = {
      json, absl::string_view(*kSpaces).substr(0, size - json.size() - 1),
      "\n"};
  size_t offset = 0;
  while (offset < size) {
    struct iovec iov[3];
    int count = 0;
    size_t skip = offset;
    for (absl::string_view part : parts) {
      if (skip >= part.size()) {
        skip -= part.size();
        continue;
      }
      iov[count].iov_base = const_cast<char*>(part.data() + skip);
      iov[count].iov_len = part.size() - skip;
      ++count;
      skip = 0;
    }
    ssize_t n = RetryOnEintr(
        [&] { return ::pwritev(fd, iov, count, static_cast<off_t>(offset)); });
    if (n <= 0) {
      return ErrnoToStatus(n < 0 ? errno : EIO, absl::StrCat("write ", path));
    }
    offset += static_cast<size_t>(n);
  }
  if (static_cast<off_t>(size) != old_size &&
      ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("truncate ", path));
  }
  return absl::OkStatus();
}

// Unpadded is the JSON of an entry file's `bytes`: without its padding
// (spaces, then a final newline) if it ends in a newline. A file is `json`
// padded to `size` bytes exactly when it has `size` bytes and Unpadded of it
// is `json`.
absl::string_view Unpadded(absl::string_view bytes) {
  if (bytes.empty() || bytes.back() != '\n') return bytes;
  const size_t last = bytes.size() == 1
                          ? absl::string_view::npos
                          : bytes.find_last_not_of(' ', bytes.size() - 2);
  return bytes.substr(0, last == absl::string_view::npos ? 0 : last + 1);
}

// ReadEntry reads a regular file of at most kMaxEntryBytes without following
// a symlink, leaving its access time alone where it may (every teardown
// reads its entry; on relatime the first read after each write would
// dirty the inode). nullopt when it does not exist.
absl::StatusOr<std::optional<std::string>> ReadEntry(const std::string& path) {
  absl::StatusOr<UniqueFd> owned = OpenFdLeavingAtime(
      path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (!owned.ok()) {
    if (absl::IsNotFound(owned.status())) return std::nullopt;
    return owned.status();
  }
  const int fd = owned->get();
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("stat ", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cache file ", path, " is not a regular file"));
  }
  if (static_cast<size_t>(st.st_size) > ResultCache::kMaxEntryBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("cache file ", path, " is larger than ",
                     ResultCache::kMaxEntryBytes, " bytes"));
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = RetryOnEintr(
        [&] { return ::read(fd, data.data() + got, data.size() - got); });
    if (n < 0) return ErrnoToStatus(errno, absl::StrCat("read ", path));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  return data;
}

// EmptyDir unlinks what the directory open at `dir` holds, and empties and
// removes its subdirectories `levels` deep (never following a symlink).
void EmptyDir(int dir, int levels) {
  const int listed = ::fcntl(dir, F_DUPFD_CLOEXEC, 0);
  DIR* stream = listed < 0 ? nullptr : ::fdopendir(listed);
  if (stream == nullptr) {
    if (listed >= 0) ::close(listed);
    return;
  }
  while (struct dirent* entry = ::readdir(stream)) {
    const char* name = entry->d_name;
    if (name[0] == '.') continue;
    if (::unlinkat(dir, name, 0) == 0 || errno != EISDIR || levels == 0) {
      continue;
    }
    const int sub =
        ::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) continue;
    EmptyDir(sub, levels - 1);
    ::close(sub);
    ::unlinkat(dir, name, AT_REMOVEDIR);
  }
  ::closedir(stream);
}

// MakeShards makes the missing shard subdirectories of the spares directory
// open at `dir`. Returns 0 (`*made` tells whether it made one) or the errno
// of the first mkdir that failed otherwise than with EEXIST.
int MakeShards(int dir, bool* made) {
  *made = false;
  for (uint64_t shard = 0; shard < ResultCache::kSpareShards; ++shard) {
    const std::string name = absl::StrCat(shard);
    if (::mkdirat(dir, name.c_str(), 0700) == 0) {
      *made = true;
    } else if (errno != EEXIST) {
      return errno;
    }
  }
  return 0;
}

}  // namespace

ResultCache::ResultCache(std::string cache_dir, bool durable,
                         absl::Duration reuse_after, absl::Duration behind_hold,
                         size_t max_spares)
    : dir_(std::move(cache_dir)),
      durable_(durable),
      reuse_after_(reuse_after),
      behind_hold_(behind_hold),
      max_spares_(max_spares) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

ResultCache::~ResultCache() {
  {
    absl::MutexLock lock(&jobs_mu_);
    stopping_ = true;
  }
  // The worker finishes every queued write before it exits.
  if (worker_.has_value()) worker_->join();
  absl::MutexLock lock(&mu_);
  absl::MutexLock spares_lock(&spares_mu_);
  if (own_spares_.empty()) return;  // never made, or removed behind our back
  for (const Spare& spare : spares_) {
    ::unlink(SpareFile(own_spares_, spare.id).c_str());
  }
  for (uint64_t shard = 0; shard < kSpareShards; ++shard) {
    ::rmdir(absl::StrCat(own_spares_, "/", shard).c_str());
  }
  if (::rmdir(own_spares_.c_str()) == 0) {
    ::rmdir(SparesDir().c_str());  // when no other instance has one there
  }
}

int ResultCache::OpenSpare(Spare* spare, std::string* path,
                           struct stat* st) const {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (spares_.empty() ||
          absl::Now() - spares_.front().retired < reuse_after_) {
        return -1;
      }
      *spare = spares_.front();
      spares_.pop_front();
    }
    *path = SparePath(spare->id);
    if (path->empty()) continue;  // its directory is gone, and it with it
    int fd = RetryOnEintr([&] {
      return ::open(path->c_str(),
                    O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    });
    if (fd >= 0 && ::fstat(fd, st) == 0 && S_ISREG(st->st_mode) &&
        st->st_nlink == 1) {
      return fd;
    }
    // Removed or replaced behind our back: drop it, try the next one.
    if (fd >= 0) ::close(fd);
    ::unlink(path->c_str());
  }
}

std::string ResultCache::SparePath(uint64_t id) const {
  absl::MutexLock lock(&spares_mu_);
  if (own_spares_.empty()) return std::string();
  return SpareFile(own_spares_, id);
}

std::string ResultCache::SpareFile(absl::string_view own, uint64_t id) {
  return absl::StrCat(own, "/", id % kSpareShards, "/", id);
}

std::optional<uint64_t> ResultCache::SpareId(const std::string& name) const {
  absl::MutexLock lock(&spares_mu_);
  // Exactly SpareFile(own_spares_, id), compared piece by piece.
  const absl::string_view path(name);
  const size_t slash = path.rfind('/');
  uint64_t id;
  if (own_spares_.empty() || slash == absl::string_view::npos ||
      !absl::SimpleAtoi(path.substr(slash + 1), &id) ||
      path.substr(slash + 1) != absl::AlphaNum(id).Piece()) {
    return std::nullopt;
  }
  // The AlphaNum holds the digits: it must outlive the view of them.
  const absl::AlphaNum shard_digits(id % kSpareShards);
  const absl::string_view shard = shard_digits.Piece();
  const absl::string_view dir = path.substr(0, slash);
  if (dir.size() != own_spares_.size() + 1 + shard.size() ||
      !absl::StartsWith(dir, own_spares_) || dir[own_spares_.size()] != '/' ||
      !absl::EndsWith(dir, shard)) {
    return std::nullopt;
  }
  return id;
}

bool ResultCache::Settled(const std::string& path,
                          const struct stat& st) const {
  absl::MutexLock lock(&mu_);
  auto it = durable_files_.find(path);
  if (it == durable_files_.end()) return false;
  const bool same = it->second == IdOf(st);
  durable_files_.erase(it);
  return same;
}

bool ResultCache::RetireToSpare(const std::string& path) const {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return false;
  if (!S_ISREG(st.st_mode)) {
    errno = EISDIR;  // Anything else: the caller's unlink reports it.
    return false;
  }
  {
    absl::MutexLock lock(&mu_);
    if (spares_.size() >= max_spares_) {
      errno = 0;
      return false;
    }
  }
  absl::StatusOr<std::string> spare = NewSpareName();
  const bool settled = Settled(path, st);
  if (!spare.ok() || ::rename(path.c_str(), spare->c_str()) != 0) {
    if (spare.ok() && errno == ENOENT && !DropOwnSparesDir(*spare)) {
      RemakeShards(*spare);
    }
    errno = 0;  // The caller's unlink tells what is there.
    return false;
  }
  KeepSpare(*std::move(spare), settled);
  return true;
}

absl::StatusOr<std::string> ResultCache::NewSpareName() const {
  OCICNI_ASSIGN_OR_RETURN(std::string own, OwnSparesDir());
  absl::MutexLock lock(&mu_);
  return SpareFile(own, next_spare_++);
}

absl::StatusOr<std::string> ResultCache::OwnSparesDir() const {
  absl::MutexLock lock(&spares_mu_);
  if (!own_spares_.empty()) return own_spares_;
  OCICNI_RETURN_IF_ERROR(MkdirAll(ResultsDir(), 0700));
  const std::string all = SparesDir();
  // Each instance has a directory of its own, locked (flock) for as long as
  // the instance lives: another instance, of this process or any other, in
  // any PID namespace, can tell whether its owner is gone.
  for (int attempt = 0; attempt < 8 && own_spares_.empty(); ++attempt) {
    // Another instance's destructor removes `all` when it leaves it empty.
    OCICNI_RETURN_IF_ERROR(MkdirAll(all, 0700));
    struct stat all_st;
    if (::lstat(all.c_str(), &all_st) != 0 || !S_ISDIR(all_st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(all, " is not a directory (a symlink?)"));
    }
    std::string made = all + "/XXXXXX";
    if (::mkdtemp(made.data()) == nullptr) {
      if (errno == ENOENT) continue;
      return ErrnoToStatus(errno, absl::StrCat("create a directory in ", all));
    }
    OCICNI_ASSIGN_OR_RETURN(UniqueFd fd,
                            OpenFd(made.c_str(), O_RDONLY | O_DIRECTORY));
    if (RetryOnEintr([&] { return ::flock(fd.get(), LOCK_EX); }) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("lock ", made));
    }
    // Swept by another instance between mkdtemp and flock: make another.
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || st.st_nlink == 0) continue;
    bool made_shard;
    if (const int err = MakeShards(fd.get(), &made_shard)) {
      return ErrnoToStatus(err, absl::StrCat("create the shards of ", made));
    }
    spares_lock_ = std::move(fd);
    own_spares_ = std::move(made);
  }
  if (own_spares_.empty()) {
    return absl::UnavailableError(
        absl::StrCat("no directory of its own could be made in ", all));
  }
  SweepSpares(all, own_spares_.substr(all.size() + 1));
  return own_spares_;
}

bool ResultCache::DropOwnSparesDir(const std::string& name) const {
  absl::MutexLock lock(&spares_mu_);
  if (own_spares_.empty() || !absl::StartsWith(name, own_spares_ + "/")) {
    return false;
  }
  struct stat st;
  if (::fstat(spares_lock_.get(), &st) == 0 && st.st_nlink > 0) return false;
  own_spares_.clear();
  spares_lock_.reset();
  return true;
}

bool ResultCache::RemakeShards(const std::string& name) const {
  absl::MutexLock lock(&spares_mu_);
  if (own_spares_.empty() || !absl::StartsWith(name, own_spares_ + "/")) {
    return false;
  }
  bool made = false;
  MakeShards(spares_lock_.get(), &made);
  return made;
}

void ResultCache::SweepSpares(const std::string& all,
                              const std::string& own) const {
  // A directory nobody holds the lock of belongs to an instance that is
  // gone (a crash, a kill): what it left there is of no use to anyone.
  DIR* dir = ::opendir(all.c_str());
  if (dir == nullptr) return;
  while (struct dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == ".." || name == own) continue;
    const int fd = ::openat(::dirfd(dir), name.c_str(),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    UniqueFd locked(fd);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) continue;  // alive
    // Its shards and their spares, or the spares of a flat directory (an
    // older version's).
    EmptyDir(fd, /*levels=*/1);
    ::unlinkat(::dirfd(dir), name.c_str(), AT_REMOVEDIR);
  }
  ::closedir(dir);
}

void ResultCache::KeepSpare(std::string name, bool settled) const {
  // Its content stays as it is: a reader may still have it open as the
  // entry it was (see kReuseAfter).
  if (std::optional<uint64_t> id = SpareId(name); id.has_value()) {
    absl::MutexLock lock(&mu_);
    if (spares_.size() < max_spares_) {
      spares_.push_back({*id, settled, absl::Now()});
      return;
    }
  }
  ::unlink(name.c_str());
}

void ResultCache::Remember(
    const std::string& path, std::string json,
    std::shared_ptr<const types::DecodedCacheFile> decoded) const {
  const size_t size = PaddedSize(json.size());
  absl::MutexLock lock(&mu_);
  RememberFile(path, std::move(json), size, std::move(decoded));
}

void ResultCache::RememberFile(
    const std::string& path, std::string json, size_t size,
    std::shared_ptr<const types::DecodedCacheFile> decoded) const {
  if (remembered_.size() >= kMaxRemembered && !remembered_.contains(path)) {
    remembered_.erase(remembered_.begin());
  }
  remembered_[path] = Remembered{std::move(json), size, std::move(decoded)};
}

void ResultCache::Forget(const std::string& path) const {
  absl::MutexLock lock(&mu_);
  remembered_.erase(path);
}

absl::StatusOr<types::DecodedCacheFile> ResultCache::Decode(
    const std::string& path, std::string bytes) const {
  // The file holds the remembered JSON when it has the remembered size and,
  // without its padding, is that JSON.
  const absl::string_view json = Unpadded(bytes);
  {
    absl::MutexLock lock(&mu_);
    auto it = remembered_.find(path);
    if (it != remembered_.end() && it->second.size == bytes.size() &&
        it->second.json == json) {
      return *it->second.decoded;
    }
  }
  OCICNI_ASSIGN_OR_RETURN(types::DecodedCacheFile decoded,
                          types::DecodeCacheFile(bytes, path));
  auto remembered = std::make_shared<const types::DecodedCacheFile>(decoded);
  std::string remembered_json(json);
  absl::MutexLock lock(&mu_);
  RememberFile(path, std::move(remembered_json), bytes.size(),
               std::move(remembered));
  return decoded;
}

absl::StatusOr<ResultCache::Temp> ResultCache::OpenTemp() const {
  Temp temp;
  struct stat st;
  Spare spare;
  std::string spare_path;
  int fd = OpenSpare(&spare, &spare_path, &st);
  if (fd >= 0) {
    temp.name = std::move(spare_path);
    temp.size = st.st_size;
    temp.settled = spare.settled;
  } else {
    auto create = [&]() -> absl::Status {
      OCICNI_ASSIGN_OR_RETURN(temp.name, NewSpareName());
      fd = RetryOnEintr([&] {
        return ::open(temp.name.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                      0600);
      });
      if (fd >= 0) return absl::OkStatus();
      return ErrnoToStatus(errno, absl::StrCat("create ", temp.name));
    };
    absl::Status created = create();
    if (absl::IsNotFound(created) &&
        (DropOwnSparesDir(temp.name) || RemakeShards(temp.name))) {
      created = create();  // the directories were removed: made again
    }
    OCICNI_RETURN_IF_ERROR(created);
  }
  temp.fd.reset(fd);
  return temp;
}

namespace {
constexpr int kFsUnknown = 0;
constexpr int kFsExt = 1;
constexpr int kFsXfs = 2;
constexpr int kFsOther = 3;
}  // namespace

bool ResultCache::InPlaceFileSystem(int fd) const {
  int known = in_place_fs_.load(std::memory_order_relaxed);
  if (known == kFsUnknown) {
    // ext2/3/4 and XFS write over a file's allocated blocks in place: once
    // such data is written out and the device's cache flushed, it is
    // durable without any metadata write. Copy-on-write and log-structured
    // file systems (btrfs, f2fs, ZFS, ...) allocate anew: not these.
    constexpr int64_t kExtMagic = 0xEF53;
    constexpr int64_t kXfsMagic = 0x58465342;
    struct statfs fs;
    known = kFsOther;
    if (::fstatfs(fd, &fs) == 0) {
      const int64_t type = static_cast<int64_t>(fs.f_type);
      if (type == kExtMagic) known = kFsExt;
      if (type == kXfsMagic) known = kFsXfs;
    }
    in_place_fs_.store(known, std::memory_order_relaxed);
  }
  return known == kFsExt || known == kFsXfs;
}

int ResultCache::FlushDevice(int written_fd) const {
  // An fsync flushes the device's write cache on ext2/3/4 and XFS even when
  // it has nothing to write. On ext4 the fsync of a file also writes out
  // the inode table block holding its inode, dirty with the new write
  // time, so the cache dir (above results/, unchanged since it was made)
  // is fsync'ed instead when it is on the same file system. XFS flushes
  // for a regular file's fdatasync, not for a directory's fsync, and
  // writes no inode for it.
  if (in_place_fs_.load(std::memory_order_relaxed) == kFsExt) {
    absl::StatusOr<UniqueFd> dir = OpenFd(dir_.c_str(), O_RDONLY | O_DIRECTORY);
    struct stat dir_st, file_st;
    if (dir.ok() && ::fstat(dir->get(), &dir_st) == 0 &&
        ::fstat(written_fd, &file_st) == 0 && dir_st.st_dev == file_st.st_dev) {
      return ::fsync(dir->get());
    }
  }
  return ::fdatasync(written_fd);
}

absl::Status ResultCache::Fill(Temp& temp, absl::string_view json) const {
  OCICNI_RETURN_IF_ERROR(
      WritePadded(temp.fd.get(), json, temp.size, temp.name));
  if (::fstat(temp.fd.get(), &temp.filled) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("stat ", temp.name));
  }
  temp.in_place = temp.settled &&
                  temp.size == static_cast<off_t>(PaddedSize(json.size())) &&
                  InPlaceFileSystem(temp.fd.get());
  return absl::OkStatus();
}

absl::Status ResultCache::Place(Temp temp, const std::string& path) const {
  temp.fd.reset();
  // Over an existing entry, the two are exchanged: the old inode becomes a
  // spare instead of being freed (readers see the old or the new entry, as
  // with a rename).
  bool exchanged = false;
  bool old_settled = false;
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    old_settled = Settled(path, st);
    exchanged = ::renameat2(AT_FDCWD, temp.name.c_str(), AT_FDCWD, path.c_str(),
                            RENAME_EXCHANGE) == 0;
  }
  if (!exchanged && ::rename(temp.name.c_str(), path.c_str()) != 0) {
    absl::Status status =
        ErrnoToStatus(errno, absl::StrCat("rename ", temp.name, " to ", path));
    ::unlink(temp.name.c_str());
    return status;
  }
  if (temp.synced) {
    absl::MutexLock lock(&mu_);
    durable_files_[path] = IdOf(temp.filled);
    ++(temp.in_place ? stats_.in_place : stats_.synced);
  }
  if (exchanged) KeepSpare(std::move(temp.name), old_settled);
  return absl::OkStatus();
}

absl::Status ResultCache::SyncDir() const {
  const std::string results = ResultsDir();
  OCICNI_ASSIGN_OR_RETURN(UniqueFd dir,
                          OpenFd(results.c_str(), O_RDONLY | O_DIRECTORY));
  if (::fsync(dir.get()) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("fsync ", results));
  }
  return absl::OkStatus();
}

absl::Status ResultCache::WriteNow(
    const std::string& path, std::string json,
    std::shared_ptr<const types::DecodedCacheFile> decoded,
    bool sync_dir) const {
  WaitForWriteBehind(path);
  OCICNI_ASSIGN_OR_RETURN(Temp temp, OpenTemp());
  absl::Status status = Fill(temp, json);
  if (status.ok() && durable_) {
    if (::fdatasync(temp.fd.get()) != 0) {
      status = ErrnoToStatus(errno, absl::StrCat("fsync ", temp.name));
    }
    temp.synced = status.ok();
    temp.in_place = false;  // made durable by its own fdatasync
  }
  if (!status.ok()) {
    temp.fd.reset();
    ::unlink(temp.name.c_str());
  } else {
    status = Place(std::move(temp), path);
  }
  if (status.ok() && sync_dir) status = SyncDir();
  if (!status.ok() || decoded == nullptr) {
    Forget(path);
    return status;
  }
  Remember(path, std::move(json), std::move(decoded));
  return absl::OkStatus();
}

std::shared_ptr<const types::DecodedCacheFile> ResultCache::Written(
    types::CacheFile file) {
  auto written = std::make_shared<types::DecodedCacheFile>();
  written->file = std::move(file);
  written->file.set_kind(std::string(types::kCacheKind));
  return written;
}

absl::Status ResultCache::Write(const types::CacheFile& file) const {
  OCICNI_ASSIGN_OR_RETURN(
      std::string path,
      types::CacheFilePath(dir_, file.network_name(), file.container_id(),
                           file.if_name()));
  return WriteNow(path, types::EncodeCacheFile(file), Written(file), durable_);
}

ResultCache::Pending ResultCache::StartWrite(types::CacheFile file) const {
  auto state = std::make_shared<Pending::State>();
  absl::StatusOr<std::string> path = types::CacheFilePath(
      dir_, file.network_name(), file.container_id(), file.if_name());
  if (!path.ok()) {
    state->status = path.status();
    state->done = true;
    return Pending(std::move(state));
  }
  state->path = *std::move(path);
  state->json = types::EncodeCacheFile(file);
  state->entry = std::move(file);
  // The first entry is not remembered: this instance reads it back only
  // when the ADD fails, and Complete replaces it.
  if (!durable_) {
    state->status = WriteNow(state->path, state->json, nullptr, false);
    state->done = true;
    return Pending(std::move(state));
  }
  WaitForWriteBehind(state->path);
  Job job;
  job.path = state->path;
  job.json = state->json;
  job.new_name = true;
  job.pending = state.get();
  job.done = [this, state](Job& job) {
    // job.decoded is set when Complete put the complete entry in the job.
    if (job.status.ok() && job.decoded != nullptr) {
      Remember(job.path, std::move(job.json), std::move(job.decoded));
    } else {
      Forget(job.path);
    }
    absl::MutexLock lock(&state->mu);
    state->status = std::move(job.status);
    state->done = true;
  };
  Run(std::move(job));
  return Pending(std::move(state));
}

absl::Status ResultCache::Complete(Pending& first,
                                   google::protobuf::Struct result) const {
  Pending::State* state = first.state_.get();
  if (state == nullptr || state->path.empty()) return first.Wait();
  std::string json = types::EncodeWithResult(std::move(state->json), result);
  *state->entry.mutable_result() = std::move(result);
  std::shared_ptr<const types::DecodedCacheFile> decoded =
      Written(std::move(state->entry));
  if (durable_) {
    bool replaced = false;
    {
      absl::MutexLock lock(&jobs_mu_);
      // Still queued: the worker fills the file from the job when it takes
      // it, so the complete entry is what it writes.
      for (Job& job : jobs_) {
        if (job.pending != state) continue;
        job.json = std::move(json);
        job.decoded = std::move(decoded);
        replaced = true;
        hurry_ = true;  // Its caller waits for it now.
        break;
      }
    }
    if (replaced) {
      {
        absl::MutexLock lock(&mu_);
        ++stats_.completed_before_written;
      }
      return first.Wait();
    }
  }
  OCICNI_RETURN_IF_ERROR(first.Wait());
  if (!durable_) {
    return WriteNow(state->path, std::move(json), std::move(decoded), false);
  }
  return WriteBehindEncoded(state->path, std::move(json), std::move(decoded));
}

absl::Status ResultCache::Pending::Wait() {
  if (state_ == nullptr) return absl::OkStatus();
  absl::MutexLock lock(&state_->mu);
  state_->mu.Await(absl::Condition(&state_->done));
  return state_->status;
}

absl::Status ResultCache::WriteBehind(const types::CacheFile& file) const {
  if (!durable_) return Write(file);
  OCICNI_ASSIGN_OR_RETURN(
      std::string path,
      types::CacheFilePath(dir_, file.network_name(), file.container_id(),
                           file.if_name()));
  return WriteBehindEncoded(path, types::EncodeCacheFile(file), Written(file));
}

absl::Status ResultCache::WriteBehindEncoded(
    const std::string& path, std::string json,
    std::shared_ptr<const types::DecodedCacheFile> decoded) const {
  WaitForWriteBehind(path);
  {
    absl::MutexLock lock(&mu_);
    behind_[path] = InFlight{decoded};
  }
  // The entry's name is durable already (written before the plugins ran):
  // only this file's data must be on disk before it replaces the entry.
  // The worker fills the file too, so the caller returns at once, and a
  // Remove that comes while the job is queued drops it (DropWriteBehind).
  Job job;
  job.path = path;
  job.json = std::move(json);
  job.decoded = std::move(decoded);
  job.behind = true;
  // Not urgent: held for behind_hold_ (groups that form meanwhile leave
  // it queued, and a Remove drops it), then written with whatever else is
  // due.
  if (behind_hold_ > absl::ZeroDuration()) {
    job.hold_until = absl::Now() + behind_hold_;
  }
  job.done = [this](Job& job) {
    {
      absl::MutexLock lock(&mu_);
      auto it = behind_.find(job.path);
      // Called off before or after its rename: the entry is removed.
      const bool called_off = it == behind_.end() || it->second.called_off;
      if (it != behind_.end()) behind_.erase(it);
      if (called_off) return;
      if (job.status.ok()) {
        const size_t size = PaddedSize(job.json.size());
        RememberFile(job.path, std::move(job.json), size,
                     std::move(job.decoded));
        return;
      }
      remembered_.erase(job.path);
    }
    LOG(WARNING) << "the cache entry " << job.path
                 << " keeps its configuration but not the ADD result: "
                 << job.status;
  };
  Run(std::move(job));
  return absl::OkStatus();
}

void ResultCache::DropWriteBehind(const std::string& path) const {
  {
    absl::MutexLock lock(&jobs_mu_);
    auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& job) {
      return job.behind && job.path == path;
    });
    if (it == jobs_.end()) return;
    jobs_.erase(it);
  }
  absl::MutexLock lock(&mu_);
  behind_.erase(path);
  ++stats_.dropped_behind;
}

void ResultCache::CallOffWriteBehind(const std::string& path) const {
  absl::MutexLock lock(&mu_);
  auto it = behind_.find(path);
  if (it == behind_.end()) return;
  it->second.called_off = true;
  ++stats_.called_off_behind;
  // A rename into place under way finishes first; then what it placed is
  // the entry that Remove retires.
  auto placed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto found = behind_.find(path);
    return found == behind_.end() || !found->second.placing;
  };
  mu_.Await(absl::Condition(&placed));
}

bool ResultCache::StartPlacing(const std::string& path) const {
  absl::MutexLock lock(&mu_);
  auto it = behind_.find(path);
  if (it == behind_.end() || it->second.called_off) return false;
  it->second.placing = true;
  return true;
}

void ResultCache::DonePlacing(const std::string& path) const {
  absl::MutexLock lock(&mu_);
  auto it = behind_.find(path);
  if (it != behind_.end()) it->second.placing = false;
}

void ResultCache::Hurry() const {
  absl::MutexLock lock(&jobs_mu_);
  hurry_ = true;
}

void ResultCache::WaitForWriteBehind(const std::string& path) const {
  {
    absl::MutexLock lock(&mu_);
    if (!behind_.contains(path)) return;
  }
  Hurry();
  absl::MutexLock lock(&mu_);
  auto landed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !behind_.contains(path);
  };
  mu_.Await(absl::Condition(&landed));
}

std::shared_ptr<const types::DecodedCacheFile> ResultCache::Behind(
    const std::string& path) const {
  absl::MutexLock lock(&mu_);
  auto it = behind_.find(path);
  if (it == behind_.end() || it->second.called_off) return nullptr;
  return it->second.decoded;
}

void ResultCache::Run(Job job) const {
  absl::MutexLock lock(&jobs_mu_);
  if (job.hold_until == absl::InfinitePast() || idle_) arrived_ = true;
  jobs_.push_back(std::move(job));
  if (!worker_.has_value()) worker_.emplace([this] { Work(); });
}

void ResultCache::Work() const {
  // Named, so that `top -H` and the bench drivers can tell it apart.
  ::pthread_setname_np(::pthread_self(), "ocicni-cache");
  absl::MutexLock lock(&jobs_mu_);
  for (;;) {
    // Wait for a job that is due (any but a write behind still held), a
    // caller that waits, or the cache to stop: a write behind queued does
    // not wake the worker before it is due.
    bool waited_empty = false;
    while (!stopping_ && !hurry_) {
      const absl::Time now = absl::Now();
      absl::Time until = absl::InfiniteFuture();
      bool due = false;
      for (const Job& job : jobs_) {
        if (job.Due(now)) {
          due = true;
          break;
        }
        until = std::min(until, job.hold_until);
      }
      if (due) break;
      // With nothing queued, the worker sleeps up to behind_hold_ (a write
      // behind queued meanwhile is due no sooner), then, still with nothing
      // queued, without a deadline: Run wakes it for any job (idle_).
      if (jobs_.empty() && !waited_empty) until = now + behind_hold_;
      idle_ = until == absl::InfiniteFuture();
      waited_empty = jobs_.empty();
      arrived_ = false;
      auto go = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(jobs_mu_) {
        return arrived_ || hurry_ || stopping_;
      };
      jobs_mu_.AwaitWithDeadline(absl::Condition(&go), until);
    }
    idle_ = false;
    if (jobs_.empty()) {
      if (stopping_) return;  // nothing left to do
      hurry_ = false;         // what a caller waited for was taken already
      continue;
    }
    // Jobs that may join a group now: all but the writes behind still held.
    auto joining = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(jobs_mu_) {
      const absl::Time now = absl::Now();
      return static_cast<size_t>(
          std::count_if(jobs_.begin(), jobs_.end(),
                        [now](const Job& job) { return job.Due(now); }));
    };
    // While writes come from several pods at once (the last group held more
    // than one), wait a little for as many as last time: bigger groups
    // share their flushes. A lone writer never waits.
    if (last_group_ > 1 && joining() < last_group_) {
      const size_t want = last_group_;
      auto enough = [this, want, &joining]()
                        ABSL_EXCLUSIVE_LOCKS_REQUIRED(jobs_mu_) {
                          return joining() >= want || stopping_ || hurry_;
                        };
      jobs_mu_.AwaitWithTimeout(absl::Condition(&enough), kGroupWindow);
    }
    // The group: every queued job that may join, or all of them when a
    // caller waits or the cache stops. A write behind still held stays
    // queued, and a Remove before its hold ends drops it unwritten.
    const bool take_all = hurry_ || stopping_;
    hurry_ = false;
    const absl::Time now = absl::Now();
    std::vector<Job> group;
    for (auto it = jobs_.begin();
         it != jobs_.end() && group.size() < kMaxGroup;) {
      if (!take_all && !it->Due(now)) {
        ++it;
        continue;
      }
      group.push_back(std::move(*it));
      it = jobs_.erase(it);
    }
    last_group_ = group.size();
    jobs_mu_.Unlock();
    CommitGroup(group);
    for (Job& job : group) job.done(job);
    jobs_mu_.Lock();
  }
}

// CommitGroup makes each job's file durable, then renames it into place,
// then (for new names) makes the directory durable, sharing every flush of
// the device's write cache among the group. A name is only ever renamed
// over once its new content is durable, so that after a crash the entry is
// the old content or the new one, never a file whose data did not land.
//
// A file filled in place (a settled spare, same size, ext2/3/4 or XFS)
// needs nothing but its data on disk: it is written out with
// sync_file_range (all started, then all waited for), and one flush of the
// device's cache (FlushDevice) makes the data of all of them durable. Any other
// file (new, grown, or on another file system) gets its own fdatasync, for its
// size and allocation too.
void ResultCache::CommitGroup(std::vector<Job>& group) const {
  for (Job& job : group) {
    if (job.temp.has_value()) continue;
    absl::StatusOr<Temp> temp = OpenTemp();
    if (!temp.ok()) {
      job.status = temp.status();
      continue;
    }
    job.status = Fill(*temp, job.json);
    if (!job.status.ok()) {
      temp->fd.reset();
      ::unlink(temp->name.c_str());
      continue;
    }
    job.temp = *std::move(temp);
  }
  for (Job& job : group) {
    if (job.status.ok() && job.temp->in_place) {
      // Only starts the writes; failures are reported by the wait below.
      ::sync_file_range(job.temp->fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
    }
  }
  int flush_fd = -1;
  for (Job& job : group) {
    if (!job.status.ok()) continue;
    const int fd = job.temp->fd.get();
    if (!job.temp->in_place) {
      if (::fdatasync(fd) != 0) {
        job.status =
            ErrnoToStatus(errno, absl::StrCat("fsync ", job.temp->name));
      }
      continue;
    }
    if (::sync_file_range(fd, 0, 0,
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                              SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
      job.status = ErrnoToStatus(errno, absl::StrCat("write ", job.temp->name));
      continue;
    }
    flush_fd = fd;
  }
  if (flush_fd >= 0) {
    absl::MutexLock lock(&mu_);
    ++stats_.shared_flushes;
  }
  if (flush_fd >= 0 && FlushDevice(flush_fd) != 0) {
    const absl::Status flushed =
        ErrnoToStatus(errno, "flush the cache entries");
    for (Job& job : group) {
      if (job.status.ok() && job.temp->in_place) job.status = flushed;
    }
  }
  bool new_names = false;
  for (Job& job : group) {
    if (job.status.ok()) job.temp->synced = true;
    if (!job.status.ok()) {
      if (job.temp.has_value() && job.temp->fd.valid()) {
        job.temp->fd.reset();
        ::unlink(job.temp->name.c_str());
      }
      continue;
    }
    if (job.behind && !StartPlacing(job.path)) {
      // Called off by Remove: the file becomes a spare instead, with its
      // data, size and allocation on disk (settled).
      job.temp->fd.reset();
      KeepSpare(std::move(job.temp->name), /*settled=*/true);
      continue;
    }
    job.status = Place(*std::move(job.temp), job.path);
    if (job.behind) DonePlacing(job.path);
    new_names = new_names || (job.status.ok() && job.new_name);
  }
  if (!new_names) return;
  const absl::Status synced = SyncDir();
  if (synced.ok()) return;
  for (Job& job : group) {
    if (job.status.ok() && job.new_name) job.status = synced;
  }
}

absl::StatusOr<std::optional<types::DecodedCacheFile>> ResultCache::Read(
    absl::string_view network, absl::string_view container_id,
    absl::string_view ifname) const {
  OCICNI_ASSIGN_OR_RETURN(
      std::string path,
      types::CacheFilePath(dir_, network, container_id, ifname));
  return Load(path);
}

absl::StatusOr<std::optional<types::DecodedCacheFile>> ResultCache::Load(
    const std::string& path) const {
  // A write behind in flight is looked up before the file is read: once it
  // is no longer in flight, its rename has happened. Looking it up after
  // the read could miss it (landed in between) and return the first entry.
  if (auto behind = Behind(path)) return *behind;
  OCICNI_ASSIGN_OR_RETURN(std::optional<std::string> bytes, ReadEntry(path));
  if (!bytes.has_value()) {
    Forget(path);
    return std::nullopt;
  }
  OCICNI_ASSIGN_OR_RETURN(types::DecodedCacheFile decoded,
                          Decode(path, *std::move(bytes)));
  return decoded;
}

absl::Status ResultCache::Remove(absl::string_view network,
                                 absl::string_view container_id,
                                 absl::string_view ifname) const {
  OCICNI_ASSIGN_OR_RETURN(
      std::string path,
      types::CacheFilePath(dir_, network, container_id, ifname));
  DropWriteBehind(path);
  CallOffWriteBehind(path);
  Forget(path);
  if (RetireToSpare(path)) return absl::OkStatus();
  const int retire_errno = errno;
  {
    absl::MutexLock lock(&mu_);
    durable_files_.erase(path);
  }
  if (retire_errno == ENOENT) return absl::OkStatus();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    const int unlink_errno = errno;
    // A read-only file system answers EROFS even for a name that is not
    // there: no entry is no entry.
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
      return absl::OkStatus();
    }
    return ErrnoToStatus(unlink_errno, absl::StrCat("remove ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<types::CacheFile>> ResultCache::ListAttachments(
    absl::string_view container_id) const {
  if (container_id.empty()) {
    return absl::InvalidArgumentError("container ID is empty");
  }
  return List(container_id, /*skip_loopback=*/true);
}

ResultCache::CommitStats ResultCache::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

absl::StatusOr<std::vector<types::CacheFile>> ResultCache::ListAll() const {
  return List("", /*skip_loopback=*/false);
}

absl::StatusOr<std::vector<types::CacheFile>> ResultCache::List(
    absl::string_view container_id, bool skip_loopback) const {
  const std::string results = ResultsDir();
  std::vector<std::string> names;
  const std::string needle = absl::StrCat("-", container_id, "-");
  absl::Status listed =
      ForEachDirEntry(results.c_str(), [&](absl::string_view name) {
        if (name.empty() || name[0] == '.') return;
        if (!container_id.empty() && !absl::StrContains(name, needle)) return;
        names.emplace_back(name);
      });
  if (absl::IsNotFound(listed)) return std::vector<types::CacheFile>();
  OCICNI_RETURN_IF_ERROR(listed);
  std::sort(names.begin(), names.end());

  std::vector<types::CacheFile> out;
  for (const std::string& name : names) {
    const std::string path = absl::StrCat(results, "/", name);
    absl::StatusOr<std::optional<types::DecodedCacheFile>> decoded = Load(path);
    if (!decoded.ok() || !decoded->has_value() || (*decoded)->legacy) {
      continue;
    }
    types::CacheFile& file = (*decoded)->file;
    if (!container_id.empty() && file.container_id() != container_id) continue;
    if (file.container_id().empty() || file.if_name().empty() ||
        file.network_name().empty()) {
      continue;
    }
    if (skip_loopback &&
        (file.if_name() == "lo" || file.network_name() == "cni-loopback")) {
      continue;
    }
    out.push_back(std::move(file));
  }
  return out;
}

}  // namespace ocicni
