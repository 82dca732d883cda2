// PodLocks serializes operations on the same pod while letting different pods
// proceed in parallel, and makes GC exclusive with ADD and DEL.
//
//   PodLocks locks;
//   {
//     PodLocks::PodGuard guard = locks.LockPod("cid");  // ADD/DEL/CHECK
//     ... run plugins ...
//   }
//   {
//     PodLocks::GCGuard guard = locks.LockAll();  // waits for every pod
//   }
//
// Entries are reference-counted and removed when the last holder leaves, so
// the map does not grow with the number of pods ever seen.
//
// Thread-safety: thread-safe. Blocking: LockPod waits for other operations on
// the same pod and for a running GC; LockAll waits for all pod operations.
#ifndef OCICNI_OCICNI_POD_LOCKS_H_
#define OCICNI_OCICNI_POD_LOCKS_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace ocicni {

class PodLocks {
 private:
  struct Entry {
    absl::Mutex mu;
    int users = 0;  // guarded by PodLocks::mu_
  };

 public:
  class PodGuard {
   public:
    PodGuard(PodGuard&& other) noexcept
        : locks_(other.locks_),
          id_(std::move(other.id_)),
          entry_(other.entry_) {
      other.locks_ = nullptr;
    }
    PodGuard(const PodGuard&) = delete;
    PodGuard& operator=(const PodGuard&) = delete;
    PodGuard& operator=(PodGuard&&) = delete;
    ~PodGuard();

   private:
    friend class PodLocks;
    PodGuard(PodLocks* locks, std::string id, Entry* entry)
        : locks_(locks), id_(std::move(id)), entry_(entry) {}
    PodLocks* locks_;
    std::string id_;
    Entry* entry_;
  };

  class GCGuard {
   public:
    explicit GCGuard(absl::Mutex* mu) : mu_(mu) { mu_->WriterLock(); }
    GCGuard(const GCGuard&) = delete;
    GCGuard& operator=(const GCGuard&) = delete;
    ~GCGuard() { mu_->WriterUnlock(); }

   private:
    absl::Mutex* mu_;
  };

  PodLocks() = default;
  PodLocks(const PodLocks&) = delete;
  PodLocks& operator=(const PodLocks&) = delete;

  // LockPod blocks until no other operation holds `id` and no GC runs.
  PodGuard LockPod(absl::string_view id);

  // LockAll blocks until no pod operation runs, and keeps new ones out.
  GCGuard LockAll() { return GCGuard(&gc_mu_); }

  // ActiveForTest is the number of pods currently held or waited for.
  size_t ActiveForTest();

 private:
  void Release(const std::string& id, Entry* entry);

  absl::Mutex gc_mu_;  // shared by pod operations, exclusive for GC
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Entry>> pods_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace ocicni

#endif  // OCICNI_OCICNI_POD_LOCKS_H_
