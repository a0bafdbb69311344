#pragma once
// DESIGN — net: the one HTTP/WebSocket/TCP layer every Chiron service uses.
//
//   HttpServer     HTTP/1.1 on Boost.Beast: keep-alive, pipelining-safe,
//                  size limits and timeouts, optional TLS (OpenSSL).
//   Router         method + path patterns with ":param" and trailing "*rest".
//   StaticFiles    files under a root with MIME types, ETag, Range, gzip.
//   WebSocket      RFC 6455 frame layer; SharedFrame = encode once, send to many.
//   LineServer     TCP server for line / RESP protocols (the name server).
//
// Threading: servers run on io_contexts owned by the kernel's net pipeline
// (one io_context per thread). Each connection is confined to one context;
// handlers run on that context unless they hand work to another pipeline.
// Errors to clients are JSON: {"error":{"code":"...","message":"..."}}.

#include "net/http_message.h"
#include "net/http_server.h"
#include "net/line_server.h"
#include "net/resp.h"
#include "net/router.h"
#include "net/static_files.h"
#include "net/websocket.h"
