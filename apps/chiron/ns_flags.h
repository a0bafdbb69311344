#pragma once
// Name-server flags shared by `chiron ns` (--listen, --admin, ...) and `chiron serve`, which
// embeds the name server (--ns-listen, --ns-admin, ...).

#include <string>

#include "common/result.h"
#include "nameserver/name_server.h"

namespace CLI {
class App;
}

namespace chiron::app {

struct NsFlags {
  std::string listen = "127.0.0.1:5300";
  std::string admin = "127.0.0.1:5380";  // "off" disables the admin plane
  std::string admin_token;
  std::string admin_token_file;
  double lease_ttl_s = 15;
  double deregister_after_s = 60;
  double slow_start_s = 0;
  bool memory = false;  // no store
  std::string web;      // dashboard directory
  std::string request_log;
  double request_log_sample = 0.01;
};

// prefix "" → --listen/--admin/...; "ns-" → --ns-listen/--ns-admin/...
void add_ns_flags(CLI::App& cmd, NsFlags& flags, const std::string& prefix);
// Resolves flags (admin token file, web/vendor directories, store under data_dir).
Result<nameserver::NameServerOptions> ns_options(const NsFlags& flags, const std::string& data_dir);

// The web UI root: --web, else ./web (running from a checkout), else the source tree.
std::string find_web_root(const std::string& flag);

}  // namespace chiron::app
