#pragma once
// Node: the `chiron node` daemon — one per machine (or network namespace).
//
// What it does. Finds its superior in the subordination tree (tree.h, discovery.h) over
// authenticated TCP sessions (wire.h), keeps the links alive with heartbeats, exchanges
// node records with its neighbours when they change (so every node knows the tree and the
// threads behind each link), and runs batch jobs: a job's main kernel runs on the node it
// was submitted to; kernels handed to cluster::upstream() run here or are sent over a link
// by the ClusterScheduler (scheduler.h), and a received kernel may travel further down or up
// the tree (never back where it came from). Every kernel sent is kept until its result
// returns; when a link dies its kernels are placed again (recovery), and a carried parent
// continues where its child ran when the parent's node is gone. Jobs are journaled
// (journal.h): after a full restart unfinished jobs resume from their last checkpoint.
// Monitoring: HTTP JSON API + the web page in web/cluster/ (docs/operations.md "Cluster").
//
// Threading: one kernel::Runtime per node (cpu, disk, one net thread). All control state
// (links, discovery, records, jobs, kernels in flight) lives on the net thread; the HTTP
// API runs there too. place() and the kernel hooks are called from runtime threads.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cluster/cluster.h"
#include "common/result.h"
#include "common/status.h"

namespace chiron::cluster {

struct NodeOptions {
  std::string listen;        // "10.77.0.3:7070": position = host part within `subnet`
  std::string subnet;        // "" = /24 of the listen address (IPv4) or /64 (IPv6)
  uint64_t fanout = 64;
  std::string key;           // the cluster key (raw bytes, ≥ 16)
  std::string cluster = "chiron";
  std::string http = "127.0.0.1:7080";  // "off" disables the API and the page
  std::filesystem::path data = "chiron-node-data";
  unsigned threads = 0;      // cpu threads, 0 = cores
  int64_t heartbeat_ms = 500;
  int64_t dead_after_ms = 3000;
  int64_t scan_interval_ms = 5000;
  int64_t probe_timeout_ms = 1000;
  std::filesystem::path web_dir;     // holds cluster/index.html; empty = no page
  std::filesystem::path vendor_dir;  // node_modules (uPlot), may be empty
};

class Node {
 public:
  static Result<std::unique_ptr<Node>> create(NodeOptions options);
  ~Node();  // stop()s
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Binds the cluster and HTTP listeners, opens the journal (resuming unfinished jobs),
  // starts discovery.
  Status start();
  // Closes every link and listener, stops the runtime. Jobs in flight stay in the journal.
  void stop();

  std::string cluster_address() const;  // "10.77.0.3:7070"
  std::string http_address() const;     // "127.0.0.1:7080" or "" when off
  uint64_t position() const;

  // The bodies of GET /api/v1/cluster and GET /api/v1/jobs/:id ("" if unknown), and
  // POST /api/v1/jobs without HTTP (tests, embedding). Not from the node's own threads.
  std::string cluster_json() const;
  std::string job_json(uint64_t job) const;
  Result<uint64_t> submit(const std::string& app, const std::vector<std::string>& args);

  struct Impl;

 private:
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The bearer token of the job API for a cluster key (hex HMAC-SHA256(key, "chiron-job-api")).
std::string job_api_token(std::string_view key);
// Reads a key file: 64 hex digits (as printed by `chiron node keygen`) → 32 raw bytes.
Result<std::string> read_key_file(const std::filesystem::path& path);
// 32 random bytes as 64 hex digits.
std::string generate_key_hex();

}  // namespace chiron::cluster
