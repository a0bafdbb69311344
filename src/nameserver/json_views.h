#pragma once
// The JSON shapes of the name server's admin plane (docs/protocols.md, "Name server"): one
// place that turns ns::Server / ns::ServiceView / ns::Change into the objects the admin API,
// the events WebSocket and the dashboard share.

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>

#include "ns/registry.h"

namespace chiron::nameserver {

// now_us: the steady clock reading used for lease_expires_in_ms.
boost::json::object server_json(const ns::Server& s, int64_t now_us);
boost::json::object service_json(const ns::ServiceView& v, int64_t now_us);
// {"type":"snapshot","version":V,"services":[...]}
std::string snapshot_message(const std::vector<ns::ServiceView>& services, uint64_t version, int64_t now_us);
// {"type":"delta",...}
std::string delta_message(const ns::Change& c, int64_t now_us);

}  // namespace chiron::nameserver
