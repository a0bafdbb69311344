#pragma once
// The store's tables (component "store" in schema_migrations), in the SQL subset both SQLite
// and PostgreSQL take (service/db.h):
//
//   files           (channel_id, path) → latest version, sha256, size, deleted, updated_at
//   file_versions   (channel_id, path, version) → sha256, size, deleted, created_at, session_id,
//                   author_id — every save and every delete (tombstone: sha256 '', size 0)
//   file_blobs      (channel_id, sha256) → size: the distinct blobs a channel references
//                   (history included) — what the quota counts
//   file_usage      channel_id → owner_id, used_bytes (= SUM(file_blobs.size) of the channel)
//   file_uploads    id → resumable upload state (received bytes acknowledged and fsync'd)
//   file_comments   id → a line comment on one file version
//
// Times are unix milliseconds (BIGINT).

#include <vector>

#include "service/db.h"

namespace chiron::store {

std::vector<service::Migration> store_migrations();

}  // namespace chiron::store
