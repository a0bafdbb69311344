#include "push/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

namespace chiron::push {
namespace {

std::string to_hex(const unsigned char* d, unsigned n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (unsigned i = 0; i < n; ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 15];
  }
  return out;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(bytes.data(), bytes.size(), d, &n, EVP_sha256(), nullptr);
  return to_hex(d, n);
}

Result<FileDigest> digest_file(const std::string& path, uint64_t keep_max) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::from_errno("open " + path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::from_errno("stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::invalid_argument(path + " is not a regular file");
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  FileDigest out;
  const bool keep = static_cast<uint64_t>(st.st_size) <= keep_max;
  if (keep) out.content.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno("read " + path, errno);
    }
    if (r == 0) break;
    EVP_DigestUpdate(ctx.get(), buf, static_cast<size_t>(r));
    out.size += static_cast<uint64_t>(r);
    if (keep) {
      if (out.size > keep_max) return Status::aborted(path + " grew while being read");
      out.content.append(buf, static_cast<size_t>(r));
    }
  }
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx.get(), d, &n);
  out.sha256 = to_hex(d, n);
  return out;
}

}  // namespace chiron::push
