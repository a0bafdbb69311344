// The cluster frame format (wire.h): CRC32C, HMAC, encode_frame and the incremental
// FrameDecoder. PeerSession is in wire_session.cc.
#include "cluster/wire.h"

#include <boost/crc.hpp>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>

#include "cluster/wire_mac.h"
#include "common/check.h"

namespace chiron::cluster {

namespace {

constexpr char kMagic[4] = {'C', 'H', 'R', 'K'};
constexpr size_t kCompactBytes = 64 * 1024;

// iSCSI (RFC 3720 §B.4) CRC32C: reflected, init and final xor all ones.
using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

uint32_t reflect32(uint32_t v) {
  uint32_t r = 0;
  for (int i = 0; i < 32; ++i, v >>= 1) r = (r << 1) | (v & 1);
  return r;
}

void put_u16(char* p, uint16_t v) {
  for (int i = 0; i < 2; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void put_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void put_u64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint64_t get_le(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

EVP_MAC* hmac_algorithm() {
  // Fetched once, kept for the life of the process (reachable, not a leak).
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  CHIRON_CHECK(mac != nullptr, "OpenSSL has no HMAC");
  return mac;
}

std::string frame_label(uint8_t type, uint64_t seq) {
  return "frame " + std::string(frame_type_name(type)) + " seq " + std::to_string(seq);
}

}  // namespace

// ---- names and CRC ----

std::string_view frame_type_name(uint8_t type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::kHello: return "HELLO";
    case FrameType::kAuth: return "AUTH";
    case FrameType::kAttach: return "ATTACH";
    case FrameType::kAttachOk: return "ATTACH_OK";
    case FrameType::kAttachRefused: return "ATTACH_REFUSED";
    case FrameType::kDetach: return "DETACH";
    case FrameType::kRecords: return "RECORDS";
    case FrameType::kRecordsGone: return "RECORDS_GONE";
    case FrameType::kHeartbeat: return "HEARTBEAT";
    case FrameType::kKernel: return "KERNEL";
    case FrameType::kKernelReturn: return "KERNEL_RETURN";
    case FrameType::kCancelJob: return "CANCEL_JOB";
    case FrameType::kError: return "ERROR";
  }
  // Names of unknown numbers are built once per value and kept (at most 256).
  static const auto* const unknown = [] {
    auto* names = new std::string[256];
    for (int i = 0; i < 256; ++i) names[i] = "UNKNOWN(" + std::to_string(i) + ")";
    return names;
  }();
  return unknown[type];
}

bool known_frame_type(uint8_t type) {
  return type >= static_cast<uint8_t>(FrameType::kHello) && type <= static_cast<uint8_t>(FrameType::kError);
}

namespace {

#if defined(__x86_64__)
// SSE 4.2 has a CRC32C instruction (8 bytes per ~cycle, against ~1 byte per few cycles for
// Boost's table). `reg` is the running register: the inverted CRC.
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(uint32_t reg, const char* p, size_t n) {
  uint64_t r = reg;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    r = __builtin_ia32_crc32di(r, v);
  }
  auto r32 = static_cast<uint32_t>(r);
  for (; n > 0; ++p, --n) r32 = __builtin_ia32_crc32qi(r32, static_cast<unsigned char>(*p));
  return r32;
}
const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

uint32_t crc32c_portable(std::string_view data, uint32_t seed) {
  // The register holds the reflected, un-inverted CRC; a seed is a finished CRC to continue.
  Crc32c crc(reflect32(seed ^ 0xFFFFFFFFu));
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

uint32_t crc32c(std::string_view data, uint32_t seed) {
#if defined(__x86_64__)
  if (kHaveSse42) return ~crc32c_sse42(~seed, data.data(), data.size());
#endif
  return crc32c_portable(data, seed);
}

// ---- HMAC ----

namespace detail {

Hmac::Hmac(std::string_view key) {
  ctx_ = EVP_MAC_CTX_new(hmac_algorithm());
  CHIRON_CHECK(ctx_ != nullptr, "EVP_MAC_CTX_new failed");
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                         OSSL_PARAM_construct_end()};
  static const unsigned char kEmpty = 0;  // OpenSSL wants a non-null key even when empty
  const auto* k = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  CHIRON_CHECK(EVP_MAC_init(ctx_, k, key.size(), params) == 1, "HMAC key set-up failed");
}

Hmac::~Hmac() { EVP_MAC_CTX_free(ctx_); }

std::array<unsigned char, kHmacBytes> Hmac::digest(std::initializer_list<std::string_view> parts) {
  // A null key re-initialises with the key already set (OpenSSL 3 HMAC provider).
  CHIRON_CHECK(EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1, "HMAC re-init failed");
  for (std::string_view p : parts) {
    if (!p.empty())
      CHIRON_CHECK(EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(p.data()), p.size()) == 1,
                   "HMAC update failed");
  }
  std::array<unsigned char, kHmacBytes> out{};
  size_t len = 0;
  CHIRON_CHECK(EVP_MAC_final(ctx_, out.data(), &len, out.size()) == 1 && len == kHmacBytes, "HMAC final failed");
  return out;
}

std::string hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts) {
  Hmac mac(key);
  auto d = mac.digest(parts);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

void append_frame(std::string& out, uint8_t type, uint16_t flags, uint64_t seq, std::string_view payload,
                  Hmac* mac) {
  CHIRON_CHECK(payload.size() <= UINT32_MAX, "frame payload over 4 GiB");
  const size_t start = out.size();
  out.resize(start + kFrameHeaderBytes);
  char* h = out.data() + start;
  std::memcpy(h, kMagic, 4);
  h[4] = static_cast<char>(kWireVersion);
  h[5] = static_cast<char>(type);
  put_u16(h + 6, flags);
  put_u64(h + 8, seq);
  put_u32(h + 16, static_cast<uint32_t>(payload.size()));
  out.append(payload);
  std::string_view header(out.data() + start, kFrameHeaderBytes);
  char trailer[kFrameTrailerBytes] = {};
  put_u32(trailer, crc32c(payload, crc32c(header)));
  if (mac != nullptr) {
    auto d = mac->digest({header, payload});
    std::memcpy(trailer + 4, d.data(), kFrameMacBytes);
  }
  out.append(trailer, sizeof trailer);
}

}  // namespace detail

std::string encode_frame(const Frame& frame, std::string_view mac_key) {
  std::string out;
  out.reserve(kFrameHeaderBytes + frame.payload.size() + kFrameTrailerBytes);
  if (mac_key.empty()) {
    detail::append_frame(out, static_cast<uint8_t>(frame.type), frame.flags, frame.seq, frame.payload, nullptr);
  } else {
    detail::Hmac mac(mac_key);
    detail::append_frame(out, static_cast<uint8_t>(frame.type), frame.flags, frame.seq, frame.payload, &mac);
  }
  return out;
}

// ---- FrameDecoder ----

FrameDecoder::FrameDecoder(size_t max_payload) : max_payload_(max_payload) {}
FrameDecoder::~FrameDecoder() = default;
FrameDecoder::FrameDecoder(FrameDecoder&&) noexcept = default;
FrameDecoder& FrameDecoder::operator=(FrameDecoder&&) noexcept = default;

void FrameDecoder::set_mac_key(std::string key) {
  mac_ = key.empty() ? nullptr : std::make_unique<detail::Hmac>(key);
}

void FrameDecoder::feed(std::string_view bytes) {
  if (!error_.ok()) return;
  // Compact: drop consumed frames once they are most of the buffer (amortised O(1) per byte).
  if (off_ == buf_.size()) {
    buf_.clear();
    off_ = 0;
  } else if (off_ >= kCompactBytes && off_ * 2 >= buf_.size()) {
    buf_.erase(0, off_);
    off_ = 0;
  }
  buf_.append(bytes);
}

size_t FrameDecoder::buffered() const { return buf_.size() - off_; }

Result<std::optional<Frame>> FrameDecoder::next() {
  if (!error_.ok()) return error_;
  const std::string_view in = std::string_view(buf_).substr(off_);
  auto fail = [&](Status st) -> Result<std::optional<Frame>> {
    error_ = std::move(st);
    buf_.clear();
    buf_.shrink_to_fit();
    off_ = 0;
    return error_;
  };
  // The magic is checked on its first bytes, so garbage is refused without waiting for more.
  const size_t magic_have = std::min(in.size(), sizeof kMagic);
  if (std::memcmp(in.data(), kMagic, magic_have) != 0) {
    std::string seen;
    for (size_t i = 0; i < magic_have; ++i) {
      static constexpr char kHex[] = "0123456789abcdef";
      seen += kHex[static_cast<uint8_t>(in[i]) >> 4];
      seen += kHex[static_cast<uint8_t>(in[i]) & 15];
    }
    return fail(Status::invalid_argument("bad frame magic 0x" + seen + " (not a Chiron cluster peer?)"));
  }
  if (in.size() < kFrameHeaderBytes) return std::optional<Frame>();
  const uint8_t version = static_cast<uint8_t>(in[4]);
  const uint8_t type = static_cast<uint8_t>(in[5]);
  const auto flags = static_cast<uint16_t>(get_le(in.data() + 6, 2));
  const uint64_t seq = get_le(in.data() + 8, 8);
  const uint64_t length = get_le(in.data() + 16, 4);
  if (version != kWireVersion) {
    return fail(Status::invalid_argument("unsupported wire version " + std::to_string(version) +
                                         " (this node speaks " + std::to_string(kWireVersion) + ")"));
  }
  if (!known_frame_type(type)) {
    return fail(Status::invalid_argument("unknown frame type " + std::to_string(type) + " (seq " +
                                         std::to_string(seq) + ")"));
  }
  if (length > max_payload_) {
    return fail(Status::resource_exhausted(frame_label(type, seq) + ": payload of " + std::to_string(length) +
                                           " bytes exceeds the limit of " + std::to_string(max_payload_)));
  }
  const size_t total = kFrameHeaderBytes + length + kFrameTrailerBytes;
  if (in.size() < total) return std::optional<Frame>();
  const std::string_view header = in.substr(0, kFrameHeaderBytes);
  const std::string_view payload = in.substr(kFrameHeaderBytes, length);
  const std::string_view trailer = in.substr(kFrameHeaderBytes + length, kFrameTrailerBytes);
  const auto crc = static_cast<uint32_t>(get_le(trailer.data(), 4));
  if (crc != crc32c(payload, crc32c(header))) {
    return fail(Status::invalid_argument("bad CRC on " + frame_label(type, seq) + " (corrupted in transit)"));
  }
  unsigned char expected[detail::kFrameMacBytes] = {};
  if (mac_ != nullptr) {
    auto d = mac_->digest({header, payload});
    std::memcpy(expected, d.data(), sizeof expected);
  }
  if (CRYPTO_memcmp(expected, trailer.data() + 4, sizeof expected) != 0) {
    return fail(Status::unauthenticated("bad MAC on " + frame_label(type, seq) + " (wrong cluster key?)"));
  }
  Frame f;
  f.type = static_cast<FrameType>(type);
  f.flags = flags;
  f.seq = seq;
  f.payload.assign(payload);
  off_ += total;
  return std::optional<Frame>(std::move(f));
}

}  // namespace chiron::cluster
