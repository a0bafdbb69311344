#pragma once
// CONTRACT (owner: wire) — payloads of the cluster frames (wire.h), encoded with
// ByteWriter and decoded with ByteReader: every decode checks lengths and counts against
// what is left and fails with a clear Status on hostile input, never crashes.
// Pure functions; thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/discovery.h"
#include "common/result.h"
#include "common/status.h"

namespace chiron::cluster {

// ATTACH: the sender asks the receiver to be its superior.
struct AttachMsg {
  uint64_t position = 0;
  uint64_t old_superior = 0;  // 0 = none
};
std::string encode(const AttachMsg& m);
Result<AttachMsg> decode_attach(std::string_view payload);

// RECORDS / RECORDS_GONE
std::string encode_records(const std::vector<NodeRecord>& records);
Result<std::vector<NodeRecord>> decode_records(std::string_view payload);
std::string encode_positions(const std::vector<uint64_t>& positions);
Result<std::vector<uint64_t>> decode_positions(std::string_view payload);

// Cluster-unique kernel id: the uid of the node that created it + a counter there.
struct KernelId {
  uint64_t node = 0;
  uint64_t seq = 0;
  friend bool operator==(const KernelId&, const KernelId&) = default;
  friend auto operator<=>(const KernelId&, const KernelId&) = default;
};

// Kernel type names: 1–128 bytes of [a-z0-9._-] (checked by every decode; the registry can
// check names at registration with this).
inline constexpr size_t kMaxKernelTypeBytes = 128;
bool valid_kernel_type_name(std::string_view name);

// A serialised RemoteKernel (cluster.h): its registered type name and the bytes of write().
struct KernelBlob {
  std::string type;  // stable name, e.g. "ar.part"; ≤ 128 bytes, [a-z0-9._-]
  std::string body;
};

// KERNEL: run this kernel (and its subtree) and send back a KERNEL_RETURN.
struct KernelMsg {
  KernelId id;
  uint64_t job = 0;
  uint64_t origin = 0;            // position of the node that sent it first
  KernelBlob kernel;
  bool carries_parent = false;    // then `parent` is the principal's state
  KernelBlob parent;
  KernelId parent_id;
};
std::string encode(const KernelMsg& m);
Result<KernelMsg> decode_kernel(std::string_view payload);

// KERNEL_RETURN: the kernel after it committed.
struct KernelReturnMsg {
  KernelId id;
  uint64_t job = 0;
  int32_t exit_code = 0;
  uint8_t status_code = 0;        // common StatusCode as a number; 0 = ok
  std::string status_message;
  KernelBlob kernel;
};
std::string encode(const KernelReturnMsg& m);
Result<KernelReturnMsg> decode_kernel_return(std::string_view payload);

// CANCEL_JOB
struct CancelJobMsg {
  uint64_t job = 0;
};
std::string encode(const CancelJobMsg& m);
Result<CancelJobMsg> decode_cancel_job(std::string_view payload);

// ERROR: a reason before closing.
std::string encode_error(std::string_view reason);
Result<std::string> decode_error(std::string_view payload);

}  // namespace chiron::cluster
