#pragma once
// Internal to the net module: test hooks of the WebSocket session, used to
// prove zero-copy broadcast and write coalescing. Thread-safe; free when unset
// (one relaxed atomic load per gathered write).

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace chiron::net::detail {

// Called on the connection's thread before every gathered write with the
// buffers it writes (views into the queued SharedFrames, not copies).
using WsWriteObserver = std::function<void(uint64_t session_id, const std::vector<std::string_view>& buffers)>;

// Installs (or, with an empty function, removes) the process-wide observer.
void set_ws_write_observer(WsWriteObserver observer);

}  // namespace chiron::net::detail
