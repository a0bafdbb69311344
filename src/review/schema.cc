#include "review/schema.h"

namespace chiron::review {

std::vector<service::Migration> review_migrations() {
  std::vector<service::Migration> m;
  m.push_back({1, R"SQL(
CREATE TABLE users (
  id {{id}},
  name TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE login_sessions (
  token_sha256 TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  renewed_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX login_sessions_user ON login_sessions(user_id);
CREATE INDEX login_sessions_expiry ON login_sessions(expires_at);
CREATE TABLE channels (
  id {{id}},
  name TEXT NOT NULL UNIQUE,
  owner_id BIGINT NOT NULL UNIQUE REFERENCES users(id),
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  tags TEXT NOT NULL,
  private BIGINT NOT NULL DEFAULT 0,
  stream_key TEXT NOT NULL UNIQUE,
  push_token TEXT NOT NULL,
  push_token_sha256 TEXT NOT NULL UNIQUE,
  chat_room TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);
CREATE TABLE channel_invites (
  channel_id BIGINT NOT NULL REFERENCES channels(id),
  user_id BIGINT NOT NULL REFERENCES users(id),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_invites_user ON channel_invites(user_id);
CREATE TABLE live_sessions (
  id {{id}},
  channel_id BIGINT NOT NULL REFERENCES channels(id),
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  source TEXT NOT NULL,
  chat_messages BIGINT NOT NULL DEFAULT 0,
  last_activity BIGINT NOT NULL
);
CREATE INDEX live_sessions_channel ON live_sessions(channel_id, started_at);
CREATE INDEX live_sessions_started ON live_sessions(started_at);
CREATE UNIQUE INDEX live_sessions_one_open ON live_sessions(channel_id) WHERE ended_at IS NULL;
CREATE TABLE session_participants (
  session_id BIGINT NOT NULL REFERENCES live_sessions(id),
  user_id BIGINT NOT NULL REFERENCES users(id),
  joined_at BIGINT NOT NULL,
  PRIMARY KEY (session_id, user_id)
);
CREATE INDEX session_participants_user ON session_participants(user_id);
CREATE TABLE ratings (
  id {{id}},
  session_id BIGINT NOT NULL REFERENCES live_sessions(id),
  reviewer_id BIGINT NOT NULL REFERENCES users(id),
  by_id BIGINT NOT NULL REFERENCES users(id),
  expertise BIGINT NOT NULL CHECK (expertise BETWEEN 1 AND 5),
  helpfulness BIGINT NOT NULL CHECK (helpfulness BETWEEN 1 AND 5),
  clarity BIGINT NOT NULL CHECK (clarity BETWEEN 1 AND 5),
  examples BIGINT NOT NULL CHECK (examples BETWEEN 1 AND 5),
  timeliness BIGINT NOT NULL CHECK (timeliness BETWEEN 1 AND 5),
  comment TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (session_id, reviewer_id)
);
CREATE INDEX ratings_reviewer ON ratings(reviewer_id, created_at);
CREATE TABLE reviewer_ratings (
  reviewer_id BIGINT PRIMARY KEY REFERENCES users(id),
  count BIGINT NOT NULL,
  sum_expertise BIGINT NOT NULL,
  sum_helpfulness BIGINT NOT NULL,
  sum_clarity BIGINT NOT NULL,
  sum_examples BIGINT NOT NULL,
  sum_timeliness BIGINT NOT NULL
);
CREATE TABLE reviewer_ratings_monthly (
  reviewer_id BIGINT NOT NULL REFERENCES users(id),
  month TEXT NOT NULL,
  count BIGINT NOT NULL,
  sum_expertise BIGINT NOT NULL,
  sum_helpfulness BIGINT NOT NULL,
  sum_clarity BIGINT NOT NULL,
  sum_examples BIGINT NOT NULL,
  sum_timeliness BIGINT NOT NULL,
  PRIMARY KEY (reviewer_id, month)
)
)SQL"});
  // Video: record the channel's streams (the media server writes them, the platform lists them).
  m.push_back({2, R"SQL(
ALTER TABLE channels ADD COLUMN record BIGINT NOT NULL DEFAULT 0;
)SQL"});
  return m;
}

}  // namespace chiron::review
