#pragma once
// Test helpers for Db: temporary directories and the databases the behavioural tests run on —
// a fresh SQLite file, or a fresh schema on a throwaway PostgreSQL server this process starts
// (pg_server_testutil.cc).

#include <memory>
#include <string>

#include "common/result.h"
#include "service/db.h"

namespace chiron::service::testing {

// A directory under $TMPDIR removed (recursively) at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A PostgreSQL 15 server started for this test process (a copy of a cluster initdb'd once into
// $TMPDIR/chiron-pg15-template-<uid>, in a temp dir owned by the `postgres` system user when run
// as root; then `postgres -k DIR -p PORT -c fsync=off`), stopped at exit (SIGQUIT; it also gets
// SIGQUIT if this process dies). Call get() from the main thread. Thread-safe.
class PgServer {
 public:
  // The process's server, started on first use; nullptr (with the reason) when it cannot run
  // here (binaries missing, no user to switch to, not root).
  static PgServer* get(std::string* why_not);
  // A URL to the server with a fresh, empty schema first on its search_path.
  Result<std::string> fresh_schema_url();
  std::string base_url() const;  // no password: the cluster trusts local connections
  int port() const { return port_; }
  ~PgServer();

 private:
  PgServer() = default;
  Status start();
  std::string dir_;
  int port_ = 0;
  int pid_ = -1;
  int next_schema_ = 0;
};

// "sqlite" → a new file in `dir`; "postgres" → a new schema on PgServer::get() (kUnavailable
// with the reason when the server cannot run; tests skip on that).
Result<std::unique_ptr<Db>> open_test_db(const std::string& backend, const std::string& dir, DbOptions options = {});

}  // namespace chiron::service::testing
