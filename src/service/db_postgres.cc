// Db on PostgreSQL (libpq): placeholder until the backend lands.

#include "service/db.h"

namespace chiron::service {

Result<std::unique_ptr<Db>> Db::open_postgres(const std::string& url, DbOptions options) {
  (void)url;
  (void)options;
  return Status::unimplemented("postgres backend not built yet");
}

}  // namespace chiron::service
