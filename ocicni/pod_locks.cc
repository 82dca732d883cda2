#include "ocicni/pod_locks.h"

namespace ocicni {

PodLocks::PodGuard PodLocks::LockPod(absl::string_view id) {
  gc_mu_.ReaderLock();
  Entry* entry;
  {
    absl::MutexLock lock(&mu_);
    std::unique_ptr<Entry>& slot = pods_[id];
    if (slot == nullptr) slot = std::make_unique<Entry>();
    entry = slot.get();
    ++entry->users;
  }
  entry->mu.Lock();
  return PodGuard(this, std::string(id), entry);
}

void PodLocks::Release(const std::string& id, Entry* entry) {
  entry->mu.Unlock();
  {
    absl::MutexLock lock(&mu_);
    if (--entry->users == 0) pods_.erase(id);
  }
  gc_mu_.ReaderUnlock();
}

PodLocks::PodGuard::~PodGuard() {
  if (locks_ != nullptr) locks_->Release(id_, entry_);
}

size_t PodLocks::ActiveForTest() {
  absl::MutexLock lock(&mu_);
  return pods_.size();
}

}  // namespace ocicni
