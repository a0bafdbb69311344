#pragma once
// CommentStore: line comments on file versions (docs/platform-api.md "Comments"). The author's
// name and display name are copied in at creation (the accounts tables belong to the review
// module). Validation of path/version/line against the content is the service's job.
// Thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "service/db.h"

namespace chiron::store {

inline constexpr size_t kMaxCommentBytes = 4000;

struct Comment {
  int64_t id = 0;
  int64_t channel_id = 0;
  std::string channel_name;
  std::string path;
  int64_t version = 0;
  int64_t line = 0;
  std::string body;
  int64_t author_id = 0;
  std::string author_name;
  std::string author_display;
  int64_t created_at = 0;
  int64_t session_id = 0;
};

// The API's `comment` object.
boost::json::object comment_json(const Comment& c);

class CommentStore {
 public:
  CommentStore(service::Db& db, const Clock& clock) : db_(db), clock_(clock) {}
  // Fills id and created_at.
  Result<Comment> add(Comment c);
  // Oldest first; optionally one path.
  Result<std::vector<Comment>> list(int64_t channel_id, std::optional<std::string> path, int64_t limit = 5000);
  Result<Comment> get(int64_t id);
  Status remove(int64_t id);

 private:
  service::Db& db_;
  const Clock& clock_;
};

}  // namespace chiron::store
