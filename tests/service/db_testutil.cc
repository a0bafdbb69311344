#include "db_testutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace chiron::service::testing {
namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/chiron-db-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) std::abort();
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

constexpr const char* kPgBinDir = "/usr/lib/postgresql/15/bin";

struct RunAs {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

// fork + (drop to the user) + exec; output to `log`. The child dies with the forking thread's
// process (PR_SET_PDEATHSIG, set after the uid change, which would clear it).
pid_t spawn(const RunAs& as, const std::vector<std::string>& argv, const std::string& log, int death_signal) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;
  if (as.switch_user) {
    if (setgroups(0, nullptr) != 0 || setgid(as.gid) != 0 || setuid(as.uid) != 0) _exit(126);
  }
  if (death_signal != 0) {
    prctl(PR_SET_PDEATHSIG, death_signal);
    if (getppid() != parent) _exit(125);
  }
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
  }
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, 0);
  execv(args[0], args.data());
  _exit(127);
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::mutex g_mu;
std::unique_ptr<PgServer> g_server;  // Guarded by g_mu
std::string g_error;                 // Guarded by g_mu
bool g_tried = false;                // Guarded by g_mu

}  // namespace

PgServer* PgServer::get(std::string* why_not) {
  std::lock_guard lock(g_mu);
  if (!g_tried) {
    g_tried = true;
    std::unique_ptr<PgServer> s(new PgServer());
    Status st = s->start();
    if (st.ok()) {
      g_server = std::move(s);
    } else {
      g_error = st.message();
    }
  }
  if (!g_server && why_not) *why_not = g_error;
  return g_server.get();
}

Status PgServer::start() {
  const std::string initdb = std::string(kPgBinDir) + "/initdb";
  const std::string postgres = std::string(kPgBinDir) + "/postgres";
  if (access(initdb.c_str(), X_OK) != 0 || access(postgres.c_str(), X_OK) != 0)
    return Status::unavailable(std::string("PostgreSQL 15 binaries not found in ") + kPgBinDir);
  RunAs as;
  if (geteuid() == 0) {  // postgres refuses to run as root
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) pw = getpwnam("nobody");
    if (pw == nullptr) return Status::unavailable("running as root and no 'postgres' or 'nobody' user to switch to");
    as = RunAs{true, pw->pw_uid, pw->pw_gid};
  }
  TempDir tmp;  // moved into dir_ below (we keep it until the destructor)
  dir_ = tmp.path() + "-pg";
  fs::create_directories(dir_);
  if (as.switch_user && chown(dir_.c_str(), as.uid, as.gid) != 0)
    return Status::unavailable("cannot chown the PostgreSQL test dir to the server user");
  chmod(dir_.c_str(), 0700);
  const std::string data = dir_ + "/data";
  const std::string log = dir_ + "/server.log";

  // initdb once per machine and user into a cached template (ctest runs every test in its own
  // process: copying 40 MB takes 0.3 s, initdb 1.2 s); renamed into place only when complete.
  const char* tmp_base = std::getenv("TMPDIR");
  const std::string tmp_root = tmp_base && *tmp_base ? tmp_base : "/tmp";
  const std::string tmpl = tmp_root + "/chiron-pg15-template-" + std::to_string(as.switch_user ? as.uid : geteuid());
  int wstatus = 0;
  if (!fs::exists(tmpl + "/PG_VERSION")) {
    const std::string building = dir_ + "/template";
    const pid_t init = spawn(as, {initdb, "-D", building, "-A", "trust", "-U", "chiron", "-N", "-E", "UTF8", "--locale=C"},
                             dir_ + "/initdb.log", 0);
    if (init < 0 || waitpid(init, &wstatus, 0) != init || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
      return Status::unavailable("initdb failed: " + read_file(dir_ + "/initdb.log"));
    std::error_code ec;
    fs::rename(building, tmpl, ec);  // loses harmlessly to a concurrent process
    if (ec) fs::remove_all(building, ec);
  }
  const pid_t copy = spawn(RunAs{}, {"/bin/cp", "-a", tmpl, data}, dir_ + "/copy.log", 0);
  if (copy < 0 || waitpid(copy, &wstatus, 0) != copy || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
    return Status::unavailable("cannot copy the PostgreSQL template cluster: " + read_file(dir_ + "/copy.log"));

  port_ = free_port();
  pid_ = spawn(as,
               {postgres, "-D", data, "-k", dir_, "-p", std::to_string(port_), "-c", "listen_addresses=127.0.0.1", "-c",
                "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"},
               log, SIGQUIT);
  if (pid_ < 0) return Status::unavailable("cannot fork postgres");
  for (int i = 0; i < 300; ++i) {  // ≤ 30 s
    if (read_file(log).find("ready to accept connections") != std::string::npos) return Status();
    if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::unavailable("postgres exited at start: " + read_file(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::unavailable("postgres not ready after 30 s: " + read_file(log));
}

PgServer::~PgServer() {
  if (pid_ > 0) {
    kill(pid_, SIGQUIT);  // immediate shutdown: the data is thrown away anyway
    int wstatus = 0;
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      gone = waitpid(pid_, &wstatus, WNOHANG) == pid_;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!gone) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &wstatus, 0);
    }
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string PgServer::base_url() const {
  return "postgresql://chiron@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

Result<std::string> PgServer::fresh_schema_url() {
  std::string schema;
  {
    std::lock_guard lock(g_mu);
    schema = "t" + std::to_string(getpid()) + "_" + std::to_string(next_schema_++);
  }
  auto admin = Db::open_postgres(base_url(), DbOptions{.pool_size = 1});
  if (!admin.ok()) return std::move(admin).status();
  CHIRON_RETURN_IF_ERROR((*admin)->write([&](Tx& tx) { return tx.exec("CREATE SCHEMA " + schema).status(); }));
  return base_url() + "?options=-csearch_path%3D" + schema;
}

Result<std::unique_ptr<Db>> open_test_db(const std::string& backend, const std::string& dir, DbOptions options) {
  if (backend == "sqlite") return Db::open_sqlite(dir + "/sub/dir/test.db", options);
  std::string why;
  PgServer* pg = PgServer::get(&why);
  if (pg == nullptr) return Status::unavailable(why);
  CHIRON_ASSIGN_OR_RETURN(std::string url, pg->fresh_schema_url());
  return Db::open_postgres(url, options);
}

}  // namespace chiron::service::testing
