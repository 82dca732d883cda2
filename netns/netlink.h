// The rtnetlink side of //netns: the real Inspector (libnl) and in-process
// loopback bring-up (a raw rtnetlink socket). This is the only target in the
// project that links libnl or speaks netlink; everything else sees the
// Inspector interface (inspector.h).
//
// The netlink socket is created by a thread inside the namespace (RunIn, or
// a NamespaceWorkers thread), so it stays bound to that namespace and is
// then used from the caller's threads without any namespace switching.
//
//   OCICNI_ASSIGN_OR_RETURN(NetNS pod, NetNS::Open("/var/run/netns/pod-1"));
//   OCICNI_RETURN_IF_ERROR(BringUpLoopback(pod));
//   OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<Inspector> inspector,
//                           OpenInspector(pod));
//   OCICNI_ASSIGN_OR_RETURN(std::vector<Address> addrs,
//                           inspector->Addresses());
//
// libnl errors map to statuses as: NLE_PERM -> kPermissionDenied,
// NLE_OBJ_NOTFOUND/NLE_NODEV -> kNotFound, NLE_EXIST -> kAlreadyExists,
// NLE_NOMEM -> kResourceExhausted, NLE_INVAL/NLE_RANGE/NLE_AF_* ->
// kInvalidArgument, NLE_BUSY/NLE_AGAIN -> kUnavailable, others -> kInternal.
// Errors of the raw socket map as ErrnoToStatus. Messages name the namespace
// path and the operation.
#ifndef OCICNI_NETNS_NETLINK_H_
#define OCICNI_NETNS_NETLINK_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "netns/inspector.h"
#include "netns/netns.h"
#include "netns/workers.h"

namespace ocicni::netns {

// OpenInspector returns an Inspector reading namespace `ns` through a
// rtnetlink socket opened inside it. The inspector does not need `ns` to stay
// open (the socket keeps the namespace alive). Errors: entering the namespace
// as RunIn (kPermissionDenied without CAP_SYS_ADMIN), socket errors as above.
// The returned inspector is thread-safe (calls serialize on its socket); each
// call blocks for one netlink dump. OpenInspector itself is thread-safe and
// blocks for a thread start and a socket connect.
absl::StatusOr<std::unique_ptr<Inspector>> OpenInspector(const NetNS& ns);

// BringUpLoopback sets `lo` administratively up in `ns` (what the CNI
// loopback plugin does, without spawning it): one RTM_NEWLINK request on a
// raw rtnetlink socket opened inside `ns` on a RunIn thread. The kernel adds
// 127.0.0.1/8 (and ::1/128 unless IPv6 is disabled on lo) itself before it
// acknowledges; they are not checked again. Idempotent. Errors: entering
// the namespace as RunIn; kernel errors as ErrnoToStatus (EPERM ->
// kPermissionDenied), ENODEV (no lo) -> kNotFound; all name ns.path().
// Thread-safe; blocks for a thread start and one netlink round trip.
absl::Status BringUpLoopback(const NetNS& ns);

// BringUpLoopback, from a job running on `worker` (workers.h): the same,
// with the socket made by the persistent worker thread instead of a new one.
absl::Status BringUpLoopback(WorkerThread& worker, const NetNS& ns);

// --- For tests only. ---------------------------------------------------
// Kernel tests build a pod's network with these, so that no other target
// needs libnl. They change the namespace `ns` (never the caller's), need
// CAP_NET_ADMIN there, and return the errors listed above.

// AddVethPairForTest creates a veth pair: link `name` in `ns`, with hardware
// address `mac` ("02:00:00:00:00:01"; empty lets the kernel pick) and `mtu`
// (0: default), and its peer `peer_name` in `peer_ns`. Both ends are left
// down.
absl::Status AddVethPairForTest(const NetNS& ns, absl::string_view name,
                                absl::string_view mac, uint32_t mtu,
                                const NetNS& peer_ns,
                                absl::string_view peer_name);

// SetLinkUpForTest sets link `name` in `ns` administratively up.
absl::Status SetLinkUpForTest(const NetNS& ns, absl::string_view name);

// AddAddressForTest assigns `cidr` ("10.0.0.2/24", "fd00::2/64") to link
// `ifname` in `ns`. IPv6 addresses skip duplicate address detection.
absl::Status AddAddressForTest(const NetNS& ns, absl::string_view ifname,
                               absl::string_view cidr);

// DeleteAddressForTest removes `cidr` from link `ifname` in `ns`, as if
// someone changed the pod's network behind the runtime's back. kNotFound
// when there is no link `ifname`; an error naming `cidr` when the link does
// not have that address.
absl::Status DeleteAddressForTest(const NetNS& ns, absl::string_view ifname,
                                  absl::string_view cidr);

// AddRouteForTest adds a main-table route to `dst_cidr` ("0.0.0.0/0")
// through link `ifname`, via `gateway` unless it is empty.
absl::Status AddRouteForTest(const NetNS& ns, absl::string_view dst_cidr,
                             absl::string_view gateway,
                             absl::string_view ifname);

}  // namespace ocicni::netns

#endif  // OCICNI_NETNS_NETLINK_H_
