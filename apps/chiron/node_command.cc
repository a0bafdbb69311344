// chiron node: the cluster daemon (src/cluster/node.h). `chiron node keygen` prints a new
// cluster key, `chiron node token` the job API token of a key file.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "chiron/commands.h"
#include "chiron/signals.h"
#include "cluster/node.h"
#include "common/common.h"
#include "jobs/jobs.h"

#ifndef CHIRON_SOURCE_DIR
#define CHIRON_SOURCE_DIR "."
#endif

namespace chiron::app {

std::string find_web_root(const std::string& flag);  // ns_command.cc

namespace {

struct NodeArgs {
  CommonOptions common;
  cluster::NodeOptions node;
  std::string key_file;
  std::string web;
  std::string user;
};

// Nothing runs as root: switch to `user` (and its groups) first, after handing it the data
// directory. Ports above 1023 need no privilege, so this happens before anything binds.
Status drop_privileges(const std::string& user, const std::filesystem::path& data) {
  if (geteuid() != 0) {
    if (!user.empty()) return Status::invalid_argument("--user needs root (the node is already running as an ordinary user)");
    return {};
  }
  if (user.empty()) return Status::permission_denied("refusing to run as root: pass --user NAME (e.g. --user nobody)");
  struct passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr) return Status::not_found("no such user: " + user);
  if (pw->pw_uid == 0) return Status::invalid_argument("--user must not be root");
  // Hand the user the node's own directories and journal files — by name, never a
  // recursive walk (a symlink planted in a directory the user owns must not redirect a
  // chown made as root), and never following symlinks.
  std::error_code ec;
  for (const char* sub : {"", "journal", "jobs"}) {
    const std::filesystem::path dir = sub[0] == 0 ? data : data / sub;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::io_error("cannot create " + dir.string() + ": " + ec.message());
  }
  for (const char* rel : {"", "journal", "jobs", "journal/jobs.log", "journal/LOCK"}) {
    const std::filesystem::path path = rel[0] == 0 ? data : data / rel;
    if (fchownat(AT_FDCWD, path.c_str(), pw->pw_uid, pw->pw_gid, AT_SYMLINK_NOFOLLOW) != 0 && errno != ENOENT) {
      return Status::io_error("cannot chown " + path.string() + ": " + std::strerror(errno));
    }
  }
  if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
    return Status::permission_denied("cannot switch to user " + user);
  }
  if (setuid(0) == 0) return Status::internal("privileges could be regained after dropping them");
  return {};
}

int run_node(NodeArgs& a) {
  if (Status st = apply_log_options(a.common); !st.ok()) {
    std::fprintf(stderr, "chiron node: %s\n", st.to_string().c_str());
    return 2;
  }
  if (a.key_file.empty()) {
    std::fprintf(stderr, "chiron node: --key-file is required (create one with: chiron node keygen > cluster.key)\n");
    return 2;
  }
  auto key = cluster::read_key_file(a.key_file);
  if (!key.ok()) {
    std::fprintf(stderr, "chiron node: %s\n", key.status().to_string().c_str());
    return 2;
  }
  a.node.key = *key;
  a.node.data = a.common.data;
  const std::filesystem::path web = find_web_root(a.web);
  if (std::filesystem::exists(web / "cluster" / "index.html")) a.node.web_dir = web;
  for (const std::filesystem::path& nm : {std::filesystem::path("node_modules"),
                                          std::filesystem::path(CHIRON_SOURCE_DIR) / "node_modules"}) {
    if (std::filesystem::exists(nm / "uplot" / "dist")) {
      a.node.vendor_dir = std::filesystem::absolute(nm);
      break;
    }
  }
  if (!a.node.web_dir.empty()) a.node.web_dir = std::filesystem::absolute(a.node.web_dir);
  if (Status st = drop_privileges(a.user, a.common.data); !st.ok()) {
    std::fprintf(stderr, "chiron node: %s\n", st.to_string().c_str());
    return 2;
  }
  jobs::register_all();
  sigset_t signals = block_shutdown_signals();
  auto node = cluster::Node::create(a.node);
  if (!node.ok()) {
    std::fprintf(stderr, "chiron node: %s\n", node.status().to_string().c_str());
    return 2;
  }
  if (Status st = (*node)->start(); !st.ok()) {
    std::fprintf(stderr, "chiron node: %s\n", st.to_string().c_str());
    return 1;
  }
  std::printf("listening cluster=%s\n", (*node)->cluster_address().c_str());
  if (!(*node)->http_address().empty()) {
    std::printf("listening http=%s\nmonitoring http://%s/\n", (*node)->http_address().c_str(), (*node)->http_address().c_str());
  }
  std::fflush(stdout);
  int sig = wait_for_shutdown_signal(signals);
  log::info("cluster", "shutting down", {{"signal", shutdown_signal_name(sig)}});
  (*node)->stop();
  return 0;
}

}  // namespace

void add_node_command(CLI::App& app) {
  auto a = std::make_shared<NodeArgs>();
  a->common.data = "./chiron-node-data";
  auto* cmd = app.add_subcommand("node", "Run a cluster node: subordination tree, remote kernels, batch jobs, monitoring page");
  add_logging_flags(*cmd, a->common);
  add_config_flag(*cmd);
  cmd->add_option("--listen", a->node.listen, "Cluster address HOST:PORT; its host part in --subnet is the node's position (the same port on every node)");
  cmd->add_option("--subnet", a->node.subnet, "The cluster's subnet (default: the /24 of --listen, /64 for IPv6)");
  cmd->add_option("--fanout", a->node.fanout, "Subordinates per node in the tree")->capture_default_str();
  cmd->add_option("--key-file", a->key_file, "Cluster key (64 hex digits; chiron node keygen)")->envname("CHIRON_CLUSTER_KEY_FILE");
  cmd->add_option("--cluster", a->node.cluster, "Cluster name (nodes of other clusters are refused)")->capture_default_str();
  cmd->add_option("--http", a->node.http, "Monitoring page and job API HOST:PORT; 'off' disables")->capture_default_str();
  cmd->add_option("--threads", a->node.threads, "CPU threads for kernels (0 = cores)")->capture_default_str();
  cmd->add_option("--heartbeat-ms", a->node.heartbeat_ms, "Heartbeat interval on idle links")->capture_default_str();
  cmd->add_option("--dead-after-ms", a->node.dead_after_ms, "A link silent this long is dead")->capture_default_str();
  cmd->add_option("--scan-interval-ms", a->node.scan_interval_ms, "Rescan for a better superior this often")->capture_default_str();
  cmd->add_option("--probe-timeout-ms", a->node.probe_timeout_ms, "Give up on a probed node after")->capture_default_str();
  cmd->add_option("--web", a->web, "Web UI directory (the page is its cluster/ folder)")->envname("CHIRON_WEB");
  cmd->add_option("--user", a->user, "When started as root: the user to run as (required; nothing runs as root)");

  auto* keygen = cmd->add_subcommand("keygen", "Print a new cluster key (write it to the --key-file of every node)");
  keygen->callback([] { std::printf("%s\n", cluster::generate_key_hex().c_str()); });
  auto token_file = std::make_shared<std::string>();
  auto* token = cmd->add_subcommand("token", "Print the job API token (Bearer) of a cluster key file");
  token->add_option("--key-file", *token_file, "Cluster key file")->required();
  token->callback([token_file] {
    auto key = cluster::read_key_file(*token_file);
    if (!key.ok()) {
      std::fprintf(stderr, "chiron node token: %s\n", key.status().to_string().c_str());
      set_exit_code(2);
      return;
    }
    std::printf("%s\n", cluster::job_api_token(*key).c_str());
  });
  cmd->callback([a, keygen, token] {
    if (keygen->parsed() || token->parsed()) return;
    if (a->node.listen.empty()) {
      std::fprintf(stderr, "chiron node: --listen HOST:PORT is required\n");
      set_exit_code(2);
      return;
    }
    set_exit_code(run_node(*a));
  });
}

}  // namespace chiron::app
