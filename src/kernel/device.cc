#include "kernel/device.h"

namespace chiron::kernel {

std::string_view device_name(Device device) {
  switch (device) {
    case Device::kCpu: return "cpu";
    case Device::kDisk: return "disk";
    case Device::kNet: return "net";
    case Device::kTimer: return "timer";
  }
  return "unknown";
}

}  // namespace chiron::kernel
