// WebSocket connection on a raw TCP socket (RFC 6455). Initial version: the
// frame layer is wired in by the next commit; until then the connection is
// closed with 1011 right after the upgrade so callers can link and test.

#include "net/websocket_session.h"

#include <boost/asio/write.hpp>

#include "common/log.h"
#include "net/websocket_frame.h"

namespace chiron::net::detail {

void start_websocket_session(boost::asio::ip::tcp::socket socket, std::string already_read, Request request,
                             WsHandlers handlers, WsOptions options) {
  (void)already_read;
  (void)handlers;
  (void)options;
  std::string frame = encode_ws_frame(WsOpcode::kClose, ws_close_payload(kWsInternalError, "not implemented"));
  boost::system::error_code ec;
  boost::asio::write(socket, boost::asio::buffer(frame), ec);
  socket.close(ec);
  log::debug("ws", "closed", {{"remote", request.remote_address}, {"code", kWsInternalError}});
}

}  // namespace chiron::net::detail
