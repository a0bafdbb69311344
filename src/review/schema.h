#pragma once
// The review module's tables (component "review" in schema_migrations), in the SQL subset that
// SQLite and PostgreSQL share (service/db.h). Times are unix milliseconds (BIGINT).
//
//   users                     accounts; password_hash is the argon2id PHC string
//   login_sessions            browser sessions: SHA-256 of the cookie token → user, CSRF token
//   channels                  one per user (name = user name); stream key, push token (+ its
//                             SHA-256, the indexed lookup key), chat room, settings
//   channel_invites           who may read a private channel
//   live_sessions             a streamer's live session; at most one open per channel
//   session_participants      logged-in viewers of a live session
//   ratings                   per (session, reviewer), five criteria 1..5 + comment
//   reviewer_ratings          the paper's Rating: count + sum per criterion, per reviewer
//   reviewer_ratings_monthly  the paper's PeriodicRating: the same per (reviewer, YYYY-MM)

#include <vector>

#include "service/db.h"

namespace chiron::review {

std::vector<service::Migration> review_migrations();

}  // namespace chiron::review
