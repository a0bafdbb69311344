#pragma once
// RESP (REdis Serialization Protocol, RESP2) commands and replies, for the
// name server's data plane, so `redis-cli` and `redis-benchmark` work unchanged.
//
// RespParser accepts, on one connection and interleaved, the two request forms
// a Redis server accepts (https://redis.io/docs/reference/protocol-spec/):
//   - arrays of bulk strings:  *2\r\n$3\r\nREQ\r\n$3\r\nweb\r\n
//   - inline commands: one text line ("REQ web\n" or "\r\n"-terminated), split
//     on spaces with redis-cli quoting: "double \"quoted\" \x41" and 'single'.
// It is incremental (bytes may arrive one at a time; a bulk string is copied
// as it arrives, never re-scanned), handles pipelining (call it again on the
// unconsumed rest), and enforces limits before buffering. A protocol error is
// final, as in Redis: reply resp_protocol_error(...) and close the connection.
//
// The reply encoders build RESP2 replies; arrays nest by concatenation:
//   resp_array({resp_bulk("web"), resp_integer(3), resp_array({resp_null()})})
//
// Pure, no I/O. RespParser: not thread-safe. Free functions: thread-safe.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace chiron::net {

struct RespLimits {
  size_t max_args = 1024;                 // elements of one array command
  size_t max_bulk_bytes = 1 << 20;        // one bulk string
  size_t max_inline_bytes = 64 * 1024;    // an inline command line, or an array/bulk header line
};

struct RespCommand {
  std::vector<std::string> args;  // never empty
  bool is_inline = false;         // true for a text line, false for a RESP array
};

// Incremental command parser. Not thread-safe.
class RespParser {
 public:
  explicit RespParser(RespLimits limits = {}) : limits_(limits) {}

  // Consumes bytes from data and stops after at most one command. Returns the
  // number of bytes consumed (command is set when one completed), or an error
  // whose message is the text after "Protocol error: " ("invalid bulk length").
  // Empty commands (blank lines, "*0\r\n", "*-1\r\n") are consumed silently.
  // After an error every call fails again.
  Result<size_t> parse(std::string_view data, std::optional<RespCommand>& command);

  // True between commands (nothing partial buffered).
  bool idle() const { return state_ == State::kStart; }

 private:
  enum class State { kStart, kInlineLine, kArrayLine, kBulkLine, kBulkData, kBulkCr, kBulkLf, kFailed };

  Status fail(std::string why);
  // Accumulates a header/inline line up to '\n'; true when line_ holds a full line (without '\n').
  Result<bool> take_line(std::string_view data, size_t& used);

  RespLimits limits_;
  State state_ = State::kStart;
  std::string line_;
  std::string error_;
  RespCommand current_;
  int64_t args_left_ = 0;
  size_t bulk_left_ = 0;
};

// Splits an inline command line like redis-cli / sdssplitargs: whitespace
// separates; "..." supports \n \r \t \b \a \\ \" \xHH; '...' supports \'.
// A closing quote must be followed by whitespace or the end. Error on unbalanced quotes.
Result<std::vector<std::string>> split_inline_command(std::string_view line);

// Reply encoders (RESP2).
std::string resp_simple(std::string_view s);                                // +OK\r\n (CR/LF become spaces)
std::string resp_error(std::string_view message, std::string_view kind = "ERR");  // -ERR message\r\n
std::string resp_protocol_error(std::string_view why);                      // -ERR Protocol error: why\r\n
std::string resp_integer(int64_t n);                                        // :42\r\n
std::string resp_bulk(std::string_view s);                                  // $3\r\nweb\r\n (binary-safe)
std::string resp_null();                                                    // $-1\r\n
std::string resp_null_array();                                              // *-1\r\n
// An array of already-encoded elements (nest by passing resp_array(...) as an element).
std::string resp_array(std::initializer_list<std::string_view> encoded_elements);
std::string resp_array(const std::vector<std::string>& encoded_elements);
std::string resp_bulk_array(const std::vector<std::string>& strings);       // *n of bulk strings

// Appending forms, to build a batch without temporaries.
void append_resp_simple(std::string& out, std::string_view s);
void append_resp_error(std::string& out, std::string_view message, std::string_view kind = "ERR");
void append_resp_integer(std::string& out, int64_t n);
void append_resp_bulk(std::string& out, std::string_view s);
void append_resp_array_header(std::string& out, size_t n);

}  // namespace chiron::net
