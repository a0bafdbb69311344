#pragma once
// An in-memory stand-in for the files API of docs/platform-api.md (list, PUT, ?from_sha256=,
// DELETE, resumable uploads) behind the push Transport interface, with fault injection.
// Thread-safe (the engine's workers share one FakeServer through their own FakeTransports).

#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "push/sha256.h"
#include "push/transport.h"

namespace chiron::push::testing {

class FakeServer {
 public:
  struct File {
    std::string content;
    std::string sha256;
  };
  struct Upload {
    std::string path;
    uint64_t size;
    std::string sha256;
    std::string data;
  };

  std::mutex mu;
  std::map<std::string, File> files;  // live files
  std::set<std::string> blobs;
  std::map<std::string, std::string> blob_data;  // sha256 → content
  std::map<std::string, Upload> uploads;
  std::vector<std::string> log;  // "PUT path", "COPY path", "DELETE path", "CHUNK id offset"
  int network_failures = 0;      // next N requests fail before reaching the server
  int unavailable = 0;           // next N requests answer 503
  int fail_chunk_after = -1;     // the Nth chunk PUT is stored but its answer is lost
  bool reject_token = false;      // writes answer 401 unauthenticated
  std::set<std::string> forbidden;  // paths answered with 413 quota_exceeded
  uint64_t chunk_size = 1 << 20;
  int next_upload = 1;

  Result<HttpResponse> handle(const HttpRequest& req);
};

class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(FakeServer& s) : s_(s) {}
  Result<HttpResponse> send(const HttpRequest& req) override { return s_.handle(req); }

 private:
  FakeServer& s_;
};

inline std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

inline HttpResponse json_answer(int status, const boost::json::value& v) {
  return {status, boost::json::serialize(v)};
}
inline HttpResponse error_answer(int status, const std::string& code, boost::json::object extra = {}) {
  extra["code"] = code;
  extra["message"] = code;
  return json_answer(status, boost::json::object{{"error", extra}});
}

inline Result<HttpResponse> FakeServer::handle(const HttpRequest& req) {
  std::lock_guard lock(mu);
  if (network_failures > 0) {
    --network_failures;
    return Status::unavailable("connection refused (fake)");
  }
  if (unavailable > 0) {
    --unavailable;
    return error_answer(503, "unavailable");
  }
  if (reject_token && req.method != "GET") return error_answer(401, "unauthenticated");
  std::string target = req.target, query;
  if (auto q = target.find('?'); q != std::string::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  const std::string files_prefix = "/api/v1/channels/c/files";
  if (target == files_prefix && req.method == "GET") {
    boost::json::array arr;
    for (auto& [p, f] : files) arr.push_back({{"path", p}, {"size", f.content.size()}, {"sha256", f.sha256}, {"version", 1}});
    return json_answer(200, boost::json::object{{"files", arr}, {"count", files.size()}});
  }
  if (target.starts_with(files_prefix + "/")) {
    const std::string path = url_decode(target.substr(files_prefix.size() + 1));
    if (req.method == "PUT") {
      if (forbidden.contains(path)) return error_answer(413, "quota_exceeded");
      File f;
      if (query.starts_with("from_sha256=")) {
        const std::string sha = query.substr(12);
        if (!blobs.contains(sha)) return error_answer(404, "blob_unknown");
        f.content = blob_data[sha];
        f.sha256 = sha;
        log.push_back("COPY " + path);
      } else {
        f.content = req.body;
        f.sha256 = sha256_hex(req.body);
        for (auto& [k, v] : req.headers) {
          if (k == "X-Chiron-Sha256" && v != f.sha256) return error_answer(400, "checksum_mismatch");
        }
        log.push_back("PUT " + path);
      }
      blobs.insert(f.sha256);
      blob_data[f.sha256] = f.content;
      files[path] = f;
      return json_answer(201, {{"path", path}, {"version", 1}, {"sha256", f.sha256}});
    }
    if (req.method == "DELETE") {
      if (!files.erase(path)) return error_answer(404, "not_found");
      log.push_back("DELETE " + path);
      return json_answer(200, {{"path", path}, {"deleted", true}});
    }
  }
  if (target == "/api/v1/channels/c/uploads" && req.method == "POST") {
    auto v = boost::json::parse(req.body).as_object();
    const std::string id = "u" + std::to_string(next_upload++);
    uploads[id] = {std::string(v["path"].as_string()), v["size"].to_number<uint64_t>(),
                   std::string(v["sha256"].as_string()), {}};
    return json_answer(201, {{"upload_id", id}, {"chunk_size", chunk_size}, {"received", 0}});
  }
  if (target.starts_with("/api/v1/uploads/")) {
    const std::string id = target.substr(16);
    auto it = uploads.find(id);
    if (it == uploads.end()) return error_answer(404, "not_found");
    Upload& u = it->second;
    if (req.method == "GET") {
      return json_answer(200, {{"upload_id", id}, {"path", u.path}, {"size", u.size}, {"received", u.data.size()}});
    }
    if (req.method == "PUT") {
      const uint64_t offset = std::stoull(query.substr(7));
      if (offset != u.data.size()) return error_answer(409, "offset_mismatch", {{"received", u.data.size()}});
      if (req.body.size() > chunk_size) return error_answer(413, "too_large");
      u.data += req.body;
      log.push_back("CHUNK " + id + " " + std::to_string(offset));
      const bool lose_answer = fail_chunk_after == 0;
      if (fail_chunk_after >= 0) --fail_chunk_after;
      if (u.data.size() >= u.size) {
        const std::string sha = sha256_hex(u.data);
        if (sha != u.sha256) {
          uploads.erase(it);
          return error_answer(422, "checksum_mismatch");
        }
        files[u.path] = {u.data, sha};
        blobs.insert(sha);
        blob_data[sha] = u.data;
        const std::string path = u.path;
        const uint64_t total = u.size;
        uploads.erase(it);
        if (lose_answer) return Status::unavailable("connection reset (fake)");
        return json_answer(200, {{"received", total}, {"done", true}, {"path", path}, {"sha256", sha}});
      }
      if (lose_answer) return Status::unavailable("connection reset (fake)");
      return json_answer(200, {{"received", u.data.size()}, {"done", false}});
    }
  }
  return error_answer(404, "no_route");
}

}  // namespace chiron::push::testing
