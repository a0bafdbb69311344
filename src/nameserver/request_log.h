#pragma once
// RequestLog: the name server's request log (the paper's future work) as JSON lines:
//   {"ts":"2026-11-21T10:00:00.123Z","remote":"127.0.0.1:5012","cmd":"REQ","service":"web",
//    "arg":"key","result":"10.0.0.1:80","us":12}
// Every mutating command is logged; REQ is sampled (sample_rate, default 1 %) so logging
// never costs the data plane more than a counter. Lines are buffered in memory and written
// by a flush on the runtime's disk pipeline (at most one in flight), at least every second
// or when 64 KiB are buffered; a full buffer (8 MiB) drops lines and counts them.
//
// Thread-safe. The Runtime is borrowed and must outlive the RequestLog.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"
#include "kernel/kernel.h"

namespace chiron::nameserver {

struct RequestLogEntry {
  std::string_view remote;
  std::string_view cmd;
  std::string_view service;
  std::string_view arg;     // server id or key
  std::string_view result;  // "OK", picked server, or the error text
  uint64_t us = 0;
};

class RequestLog {
 public:
  static Result<std::unique_ptr<RequestLog>> open(const std::filesystem::path& file, kernel::Runtime& runtime,
                                                  double sample_rate);
  ~RequestLog();  // flushes synchronously

  // True if a REQ should be logged (sampling decision, cheap).
  bool sample();
  void write(const RequestLogEntry& e);
  // Writes what is buffered (on the disk pipeline). Called by the name server's 1 s tick.
  void flush_async();
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }

 private:
  RequestLog(int fd, kernel::Runtime& runtime, double sample_rate);
  void write_out();

  const int fd_;
  kernel::Runtime& runtime_;
  const uint64_t sample_every_;  // 1 in N REQs
  std::atomic<uint64_t> req_seen_{0};
  std::mutex mu_;
  std::string buffer_;         // Guarded by mu_
  bool flush_pending_ = false; // Guarded by mu_
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};
};

}  // namespace chiron::nameserver
