// Payload codecs of the cluster frames (messages.h). Every decode reads untrusted bytes
// through ByteReader: counts are checked against the bytes left before anything is reserved,
// strings have caps, type names and enums are validated, and no bytes may be left over.
#include "cluster/messages.h"

#include <cmath>

#include "cluster/wire.h"

namespace chiron::cluster {

namespace {

constexpr size_t kMaxAddressBytes = 255;   // endpoint, http, hostname (a DNS name is ≤ 253)
constexpr size_t kMaxMessageBytes = 4096;  // status messages and ERROR reasons
// The fixed-size part of an encoded NodeRecord (the three strings empty).
constexpr size_t kMinRecordBytes = 8 + 8 + 4 + 4 + 4 + 8 + 4 + 8 + 8 + 4 + 8;
constexpr uint8_t kMaxStatusCode = static_cast<uint8_t>(StatusCode::kDeadlineExceeded);

void put_id(ByteWriter& w, const KernelId& id) {
  w.u64(id.node);
  w.u64(id.seq);
}

KernelId get_id(ByteReader& r) {
  KernelId id;
  id.node = r.u64();
  id.seq = r.u64();
  return id;
}

void put_blob(ByteWriter& w, const KernelBlob& b) {
  w.str(b.type);
  w.str(b.body);
}

KernelBlob get_blob(ByteReader& r, const char* what) {
  KernelBlob b;
  b.type = r.str(kMaxKernelTypeBytes, what);
  if (r.ok() && !valid_kernel_type_name(b.type)) {
    std::string shown;
    for (char c : b.type) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    r.fail(std::string("invalid ") + what + " '" + shown + "' (want 1-128 of [a-z0-9._-])");
  }
  b.body = r.str();
  return b;
}

template <class T>
Result<T> finish(const ByteReader& r, T value, std::string_view what) {
  Status st = r.status();
  if (!st.ok()) return std::move(st).context(what);
  return value;
}

}  // namespace

bool valid_kernel_type_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxKernelTypeBytes) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// ---- ATTACH ----

std::string encode(const AttachMsg& m) {
  ByteWriter w;
  w.u64(m.position);
  w.u64(m.old_superior);
  return w.take();
}

Result<AttachMsg> decode_attach(std::string_view payload) {
  ByteReader r(payload);
  AttachMsg m;
  m.position = r.u64();
  m.old_superior = r.u64();
  return finish(r, std::move(m), "ATTACH");
}

// ---- RECORDS / RECORDS_GONE ----

std::string encode_records(const std::vector<NodeRecord>& records) {
  ByteWriter w;
  w.u32(static_cast<uint32_t>(records.size()));
  for (const NodeRecord& n : records) {
    w.u64(n.position);
    w.u64(n.uid);
    w.str(n.endpoint);
    w.str(n.http);
    w.str(n.hostname);
    w.u64(n.superior);
    w.u32(n.threads);
    w.u64(n.memory_bytes);
    w.f64(n.load);
    w.u32(n.jobs);
    w.u64(n.version);
  }
  return w.take();
}

Result<std::vector<NodeRecord>> decode_records(std::string_view payload) {
  ByteReader r(payload);
  const uint32_t n = r.count(kMinRecordBytes, "record");
  std::vector<NodeRecord> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    NodeRecord rec;
    rec.position = r.u64();
    rec.uid = r.u64();
    rec.endpoint = r.str(kMaxAddressBytes, "endpoint");
    rec.http = r.str(kMaxAddressBytes, "http address");
    rec.hostname = r.str(kMaxAddressBytes, "hostname");
    rec.superior = r.u64();
    rec.threads = r.u32();
    rec.memory_bytes = r.u64();
    rec.load = r.f64();
    rec.jobs = r.u32();
    rec.version = r.u64();
    if (r.ok() && !(std::isfinite(rec.load) && rec.load >= 0)) {
      r.fail("record " + std::to_string(i) + ": load is not a finite number ≥ 0");
    }
    out.push_back(std::move(rec));
  }
  return finish(r, std::move(out), "RECORDS");
}

std::string encode_positions(const std::vector<uint64_t>& positions) {
  ByteWriter w;
  w.u32(static_cast<uint32_t>(positions.size()));
  for (uint64_t p : positions) w.u64(p);
  return w.take();
}

Result<std::vector<uint64_t>> decode_positions(std::string_view payload) {
  ByteReader r(payload);
  const uint32_t n = r.count(8, "position");
  std::vector<uint64_t> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) out.push_back(r.u64());
  return finish(r, std::move(out), "RECORDS_GONE");
}

// ---- KERNEL / KERNEL_RETURN ----

std::string encode(const KernelMsg& m) {
  ByteWriter w;
  put_id(w, m.id);
  w.u64(m.job);
  w.u64(m.origin);
  put_blob(w, m.kernel);
  put_id(w, m.parent_id);
  w.boolean(m.carries_parent);
  if (m.carries_parent) put_blob(w, m.parent);
  return w.take();
}

Result<KernelMsg> decode_kernel(std::string_view payload) {
  ByteReader r(payload);
  KernelMsg m;
  m.id = get_id(r);
  m.job = r.u64();
  m.origin = r.u64();
  m.kernel = get_blob(r, "kernel type");
  m.parent_id = get_id(r);
  m.carries_parent = r.boolean();
  if (m.carries_parent) m.parent = get_blob(r, "parent type");
  return finish(r, std::move(m), "KERNEL");
}

std::string encode(const KernelReturnMsg& m) {
  ByteWriter w;
  put_id(w, m.id);
  w.u64(m.job);
  w.u32(static_cast<uint32_t>(m.exit_code));
  w.u8(m.status_code);
  w.str(std::string_view(m.status_message).substr(0, kMaxMessageBytes));
  put_blob(w, m.kernel);
  return w.take();
}

Result<KernelReturnMsg> decode_kernel_return(std::string_view payload) {
  ByteReader r(payload);
  KernelReturnMsg m;
  m.id = get_id(r);
  m.job = r.u64();
  m.exit_code = static_cast<int32_t>(r.u32());
  m.status_code = r.u8();
  if (r.ok() && m.status_code > kMaxStatusCode) r.fail("unknown status code " + std::to_string(m.status_code));
  m.status_message = r.str(kMaxMessageBytes, "status message");
  m.kernel = get_blob(r, "kernel type");
  return finish(r, std::move(m), "KERNEL_RETURN");
}

// ---- CANCEL_JOB / ERROR ----

std::string encode(const CancelJobMsg& m) {
  ByteWriter w;
  w.u64(m.job);
  return w.take();
}

Result<CancelJobMsg> decode_cancel_job(std::string_view payload) {
  ByteReader r(payload);
  CancelJobMsg m;
  m.job = r.u64();
  return finish(r, std::move(m), "CANCEL_JOB");
}

std::string encode_error(std::string_view reason) {
  ByteWriter w;
  w.str(reason.substr(0, kMaxMessageBytes));
  return w.take();
}

Result<std::string> decode_error(std::string_view payload) {
  ByteReader r(payload);
  std::string reason = r.str(kMaxMessageBytes, "reason");
  return finish(r, std::move(reason), "ERROR");
}

}  // namespace chiron::cluster
