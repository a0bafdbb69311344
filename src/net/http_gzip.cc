#include "net/http_gzip.h"

#include <zlib.h>

#include <cstdlib>

#include "common/strings.h"

namespace chiron::net {
namespace {

// q-value of one Accept-Encoding element ("gzip;q=0.5" → 0.5); 1 when absent.
double q_value(std::string_view params) {
  for (std::string_view p : split(params, ';')) {
    p = trim(p);
    if (p.size() > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      std::string v(trim(p.substr(2)));
      char* end = nullptr;
      double q = std::strtod(v.c_str(), &end);
      if (end == v.c_str()) return 0;
      return q;
    }
  }
  return 1;
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  double gzip_q = -1;
  double star_q = -1;
  for (std::string_view item : split(accept_encoding, ',')) {
    item = trim(item);
    size_t semi = item.find(';');
    std::string_view coding = trim(item.substr(0, semi));
    double q = semi == std::string_view::npos ? 1.0 : q_value(item.substr(semi + 1));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) gzip_q = q;
    else if (coding == "*") star_q = q;
  }
  if (gzip_q >= 0) return gzip_q > 0;
  return star_q > 0;
}

Result<std::string> gzip_compress(std::string_view data, int level) {
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper (zlib.h, deflateInit2).
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return Status::internal("deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Status::internal("deflate did not finish");
  out.resize(produced);
  return out;
}

Result<std::string> gzip_decompress(std::string_view data, size_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return Status::internal("inflateInit2 failed");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  char chunk[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return Status::invalid_argument("corrupt gzip data");
    }
    out.append(chunk, sizeof chunk - zs.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&zs);
      return Status::resource_exhausted("gzip output too large");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return Status::invalid_argument("truncated gzip data");
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace chiron::net
