#include "store/schema.h"

namespace chiron::store {

std::vector<service::Migration> store_migrations() {
  return {
      {1, R"sql(
CREATE TABLE files (
  channel_id BIGINT NOT NULL,
  path TEXT NOT NULL,
  version BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  deleted BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (channel_id, path));
CREATE TABLE file_versions (
  channel_id BIGINT NOT NULL,
  path TEXT NOT NULL,
  version BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  deleted BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  session_id BIGINT NOT NULL DEFAULT 0,
  author_id BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (channel_id, path, version));
CREATE INDEX file_versions_session ON file_versions (session_id);
CREATE TABLE file_blobs (
  channel_id BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  PRIMARY KEY (channel_id, sha256));
CREATE TABLE file_usage (
  channel_id BIGINT PRIMARY KEY,
  owner_id BIGINT NOT NULL,
  used_bytes BIGINT NOT NULL DEFAULT 0);
CREATE TABLE file_uploads (
  id TEXT PRIMARY KEY,
  channel_id BIGINT NOT NULL,
  channel_name TEXT NOT NULL,
  path TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  received BIGINT NOT NULL DEFAULT 0,
  author_id BIGINT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL);
CREATE TABLE file_comments (
  id {{id}},
  channel_id BIGINT NOT NULL,
  channel_name TEXT NOT NULL,
  path TEXT NOT NULL,
  version BIGINT NOT NULL,
  line BIGINT NOT NULL,
  body TEXT NOT NULL,
  author_id BIGINT NOT NULL,
  author_name TEXT NOT NULL,
  author_display TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  session_id BIGINT NOT NULL DEFAULT 0);
CREATE INDEX file_comments_channel ON file_comments (channel_id, path);
CREATE INDEX file_comments_session ON file_comments (session_id)
)sql"},
  };
}

}  // namespace chiron::store
