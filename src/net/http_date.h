#pragma once
// HTTP-date (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
// Pure functions; thread-safe.

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace chiron::net {

std::string format_http_date(std::time_t t);
// IMF-fixdate, plus the obsolete RFC 850 and asctime forms recipients must accept.
std::optional<std::time_t> parse_http_date(std::string_view s);

// The current time as an HTTP-date, recomputed at most once per second per thread.
std::string_view http_date_now();

}  // namespace chiron::net
