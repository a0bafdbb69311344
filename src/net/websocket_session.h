#pragma once
// Internal to the net module: hands a TCP socket whose HTTP upgrade has been
// answered with "101 Switching Protocols" to the WebSocket frame layer.

#include <boost/asio/ip/tcp.hpp>

#include "net/websocket.h"

namespace chiron::net::detail {

// `already_read` holds bytes the HTTP parser read past the upgrade request
// (frames a client sent right behind it). Calls handlers.on_open(ws, request) first.
void start_websocket_session(boost::asio::ip::tcp::socket socket, std::string already_read, Request request,
                             WsHandlers handlers, WsOptions options);

}  // namespace chiron::net::detail
