#include "common/sha256.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include <openssl/evp.h>

#include "common/check.h"

namespace chiron {

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  CHIRON_CHECK(ctx_->md != nullptr && EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) == 1,
               "EVP sha256 init");
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view bytes) {
  if (!bytes.empty()) CHIRON_CHECK(EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size()) == 1, "EVP update");
}

std::string Sha256::final_hex() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  CHIRON_CHECK(EVP_DigestFinal_ex(ctx_->md, out, &n) == 1 && n == 32, "EVP final");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(64, '0');
  for (unsigned i = 0; i < 32; ++i) {
    hex[2 * i] = kHex[out[i] >> 4];
    hex[2 * i + 1] = kHex[out[i] & 15];
  }
  return hex;
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.final_hex();
}

Status for_each_file_chunk(const std::filesystem::path& file, size_t chunk,
                           const std::function<bool(std::string_view)>& fn) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::from_errno("open " + file.string(), errno);
  std::vector<char> buf(std::max<size_t>(1, chunk));
  Status st;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      st = Status::from_errno("read " + file.string(), errno);
      break;
    }
    if (n == 0 || !fn(std::string_view(buf.data(), static_cast<size_t>(n)))) break;
  }
  ::close(fd);
  return st;
}

Result<std::string> sha256_file(const std::filesystem::path& file, uint64_t* size_out) {
  Sha256 h;
  uint64_t total = 0;
  CHIRON_RETURN_IF_ERROR(for_each_file_chunk(file, 1 << 20, [&](std::string_view bytes) {
    h.update(bytes);
    total += bytes.size();
    return true;
  }));
  if (size_out) *size_out = total;
  return h.final_hex();
}

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace chiron
