#pragma once
// Device: which pipeline (thread pool + queue) a kernel needs. Pure value type; thread-safe.

#include <cstdint>
#include <string_view>

namespace chiron::kernel {

enum class Device : uint8_t {
  kCpu = 0,   // compute: hashing, parsing, muxing (pool size = cores)
  kDisk = 1,  // blocking file I/O, fsync, SQLite (default 2 threads)
  kNet = 2,   // Asio: one io_context per thread
  kTimer = 3, // the timer thread itself; only for tiny bookkeeping kernels
};
inline constexpr int kDeviceCount = 4;

// "cpu", "disk", "net", "timer".
std::string_view device_name(Device device);

}  // namespace chiron::kernel
