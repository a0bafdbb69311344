#pragma once
// gzip content coding (RFC 9110 §8.4.1.3, RFC 1952) with zlib, and
// Accept-Encoding negotiation (RFC 9110 §12.5.3). Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "common/result.h"

namespace chiron::net {

// Whether an Accept-Encoding value admits gzip ("gzip", "*", not "gzip;q=0").
bool accepts_gzip(std::string_view accept_encoding);

// The gzip member for `data` (zlib level 1-9; 6 is zlib's default trade-off).
Result<std::string> gzip_compress(std::string_view data, int level = 6);
// Inflates a gzip member; fails on corrupt input or output beyond max_bytes.
Result<std::string> gzip_decompress(std::string_view data, size_t max_bytes = 64 << 20);

}  // namespace chiron::net
