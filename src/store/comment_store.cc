#include "store/comment_store.h"

#include "common/clock.h"
#include "service/http.h"

namespace chiron::store {

using service::Row;
using service::Tx;

namespace {

constexpr std::string_view kColumns =
    "id, channel_id, channel_name, path, version, line, body, author_id, author_name, author_display, created_at, "
    "session_id";

Comment comment_from(const Row& r) {
  Comment c;
  c.id = r.integer(0);
  c.channel_id = r.integer(1);
  c.channel_name = r.text(2);
  c.path = r.text(3);
  c.version = r.integer(4);
  c.line = r.integer(5);
  c.body = r.text(6);
  c.author_id = r.integer(7);
  c.author_name = r.text(8);
  c.author_display = r.text(9);
  c.created_at = r.integer(10);
  c.session_id = r.integer(11);
  return c;
}

}  // namespace

boost::json::object comment_json(const Comment& c) {
  boost::json::object author{{"id", c.author_id}, {"name", c.author_name}, {"display_name", c.author_display}};
  boost::json::object o{{"id", c.id},     {"path", c.path}, {"version", c.version},
                        {"line", c.line}, {"body", c.body}, {"author", std::move(author)},
                        {"created_at", format_utc_ms(c.created_at)}};
  if (c.session_id > 0) {
    o["session_id"] = c.session_id;
  } else {
    o["session_id"] = nullptr;
  }
  return o;
}

Result<Comment> CommentStore::add(Comment c) {
  c.created_at = clock_.unix_ms();
  CHIRON_ASSIGN_OR_RETURN(c.id, db_.write_value<int64_t>([&](Tx& tx) -> Result<int64_t> {
    return tx.insert("INSERT INTO file_comments (channel_id, channel_name, path, version, line, body, author_id, "
                     "author_name, author_display, created_at, session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     "RETURNING id",
                     {c.channel_id, c.channel_name, c.path, c.version, c.line, c.body, c.author_id, c.author_name,
                      c.author_display, c.created_at, c.session_id});
  }));
  return c;
}

Result<std::vector<Comment>> CommentStore::list(int64_t channel_id, std::optional<std::string> path, int64_t limit) {
  return db_.read_value<std::vector<Comment>>([&](Tx& tx) -> Result<std::vector<Comment>> {
    std::vector<Row> rows;
    if (path) {
      CHIRON_ASSIGN_OR_RETURN(rows, tx.query("SELECT " + std::string(kColumns) +
                                                 " FROM file_comments WHERE channel_id = ? AND path = ? ORDER BY id LIMIT ?",
                                             {channel_id, *path, limit}));
    } else {
      CHIRON_ASSIGN_OR_RETURN(rows, tx.query("SELECT " + std::string(kColumns) +
                                                 " FROM file_comments WHERE channel_id = ? ORDER BY id LIMIT ?",
                                             {channel_id, limit}));
    }
    std::vector<Comment> out;
    out.reserve(rows.size());
    for (const Row& r : rows) out.push_back(comment_from(r));
    return out;
  });
}

Result<Comment> CommentStore::get(int64_t id) {
  return db_.read_value<Comment>([&](Tx& tx) -> Result<Comment> {
    CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT " + std::string(kColumns) + " FROM file_comments WHERE id = ?", {id}));
    if (!row) return Status::not_found("no comment " + std::to_string(id));
    return comment_from(*row);
  });
}

Status CommentStore::remove(int64_t id) {
  return db_.write([&](Tx& tx) -> Status {
    CHIRON_ASSIGN_OR_RETURN(int64_t n, tx.exec("DELETE FROM file_comments WHERE id = ?", {id}));
    if (n == 0) return Status::not_found("no comment " + std::to_string(id));
    return Status();
  });
}

}  // namespace chiron::store
