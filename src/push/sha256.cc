#include "push/sha256.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chiron::push {

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
  Sha256 hash;
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
    hash.update(std::string_view(buf, static_cast<size_t>(r)));
    out.size += static_cast<uint64_t>(r);
    if (keep) {
      if (out.size > keep_max) return Status::aborted(path + " grew while being read");
      out.content.append(buf, static_cast<size_t>(r));
    }
  }
  out.sha256 = hash.final_hex();
  return out;
}

}  // namespace chiron::push
