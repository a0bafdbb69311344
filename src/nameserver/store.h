#pragma once
// Store: the name server's durable state in SQLite (WAL, synchronous=FULL), so that every
// acknowledged REG/REM/ALG/STATE/secret change survives kill -9 and power loss.
//
// What is stored: services (algorithm, registration secret) and servers (weight, admin state,
// active-check spec as opaque JSON text). Not stored: health, leases, heartbeat load and
// weight%, counters — they are re-learnt after a restart (restored servers get a full-TTL grace).
//
// Writes are group-committed: submit() only queues (cheap, under a short mutex, callable while
// the caller holds its own lock so the journal order equals the in-memory order) and schedules
// one flush on the runtime's disk pipeline; a flush takes everything queued and commits it in
// one transaction (one WAL fsync). when_durable(seq, cb) runs cb once every mutation up to seq
// is committed — the name server replies "+OK" from there. At most one flush runs at a time.
// A failed commit (disk full, I/O error) fails the waiting callbacks with the SQLite error and
// keeps the batch queued; the next submit or flush retries it. Mutations are idempotent
// upserts/deletes, so replaying a batch twice is harmless.
//
// Thread-safe. The Runtime is borrowed and must outlive the Store; the destructor flushes.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "kernel/kernel.h"
#include "ns/server.h"

namespace chiron::nameserver {

struct StoredService {
  std::string name;
  std::string algorithm;  // balancer name as given to ALG
  std::string secret;     // registration secret; empty = none
};

struct StoredServer {
  std::string service;
  std::string id;  // "ip:port"
  uint32_t weight = 1;
  ns::AdminState admin = ns::AdminState::kReady;
  std::string check;  // active-check spec as JSON text (health_checker.h); empty = lease only
};

struct StoredState {
  std::vector<StoredService> services;  // sorted by name
  std::vector<StoredServer> servers;    // sorted by (service, id)
};

// One change. Upserts carry the whole row, so applying a mutation twice is harmless.
struct Mutation {
  enum class Kind : uint8_t {
    kPutService,     // service: insert or replace (algorithm, secret)
    kDeleteService,  // service.name: the service and all its servers
    kPutServer,      // server: insert or replace; creates the service row with algorithm "rr" if missing
    kDeleteServer,   // server.service + server.id
  };
  Kind kind = Kind::kPutServer;
  StoredService service;
  StoredServer server;
};

struct StoreOptions {
  // Upper bound on mutations per transaction (a REG storm commits in batches of this size).
  size_t max_batch = 4096;
};

struct StoreStats {
  uint64_t submitted = 0;   // sequence number of the last submitted mutation
  uint64_t durable = 0;     // sequence number of the last committed mutation
  uint64_t commits = 0;     // transactions committed
  uint64_t failures = 0;    // transactions that failed (and were retried)
  uint64_t last_commit_us = 0;  // wall time of the last commit, fsync included
  uint64_t max_commit_us = 0;
};

class Store {
 public:
  // Opens (creating if needed, parent directories included) the database at `file`, sets WAL +
  // synchronous=FULL, creates or checks the schema (a `meta` table holds the schema version;
  // a newer version is refused with kFailedPrecondition). A file that is not a Chiron store
  // (or not SQLite at all) is refused with a clear error and never modified.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& file, kernel::Runtime& runtime,
                                             StoreOptions options = {});
  ~Store();  // flush(), then close
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Everything committed so far. Call at start-up, before the first submit().
  Result<StoredState> load();

  // Queues one mutation and returns its sequence number (1, 2, ...). Never blocks on I/O.
  uint64_t submit(Mutation m);
  // The sequence number of the last submitted mutation (0 if none).
  uint64_t submitted() const;
  // Runs cb(Status) once every mutation with sequence ≤ seq is durable (or with the error if
  // the commit that should have made it durable failed). Runs inline if already durable;
  // otherwise on a disk-pipeline thread. cb must not block.
  void when_durable(uint64_t seq, std::function<void(Status)> cb);
  // Blocks until everything submitted so far is committed; returns the last commit's status.
  Status flush();

  StoreStats stats() const;
  const std::filesystem::path& path() const;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chiron::nameserver
