// The JSON form of a Program (graph.h). Readers take only the keys they know and ignore the
// rest, so the compiler's richer documents and the service graph's rates read back to the
// same Program. Type errors name the JSON path; structural errors come from validate().
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <string>

#include "flux/graph.h"
#include "flux/graph_internal.h"

namespace chiron::flux {

namespace json = boost::json;

namespace {

json::array names_to_json(const std::vector<std::string>& names) {
  json::array a;
  a.reserve(names.size());
  for (const std::string& n : names) a.emplace_back(n);
  return a;
}

Status type_error(const std::string& path, std::string_view what) {
  return Status::invalid_argument(path + ": " + std::string(what));
}

// Optional (absent = empty) or required array of strings; identifier checks are validate()'s.
Status read_names(const json::object& o, std::string_view key, const std::string& path, bool required,
                  std::vector<std::string>& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) {
    if (required) return type_error(path, "missing (must be an array of identifiers)");
    return ok_status();
  }
  const json::array* a = v->if_array();
  if (a == nullptr) return type_error(path, "must be an array of identifiers");
  if (a->size() > kMaxNamesPerList) {
    return type_error(path, "more than " + std::to_string(kMaxNamesPerList) + " names");
  }
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const json::string* s = (*a)[i].if_string();
    if (s == nullptr) return type_error(path + "[" + std::to_string(i) + "]", "must be a string (an identifier)");
    out.emplace_back(s->data(), s->size());
  }
  return ok_status();
}

Status read_stream(const json::value& v, const std::string& path, Stream& s) {
  const json::object* o = v.if_object();
  if (o == nullptr) return type_error(path, "must be an object");
  const json::value* type = o->if_contains("type");
  const json::string* t = type ? type->if_string() : nullptr;
  if (t != nullptr && *t == "start") {
    s.type = StreamType::kStart;
  } else if (t != nullptr && *t == "post") {
    s.type = StreamType::kPost;
  } else {
    return type_error(path + ".type", type ? "must be \"start\" or \"post\"" : "missing (\"start\" or \"post\")");
  }
  CHIRON_RETURN_IF_ERROR(read_names(*o, "dest", path + ".dest", true, s.dest));
  return read_names(*o, "vars", path + ".vars", false, s.vars);
}

Status read_fluxion(const json::value& v, size_t index, Fluxion& f) {
  const std::string path = detail::path_of(index, "");
  const json::object* o = v.if_object();
  if (o == nullptr) return type_error(path, "must be an object");
  const json::value* id = o->if_contains("id");
  if (id == nullptr) return type_error(path + ".id", "missing (must be a string)");
  if (!id->is_string()) return type_error(path + ".id", "must be a string");
  f.id.assign(id->get_string().data(), id->get_string().size());
  CHIRON_RETURN_IF_ERROR(read_names(*o, "tags", path + ".tags", false, f.tags));
  CHIRON_RETURN_IF_ERROR(read_names(*o, "ctx", path + ".ctx", false, f.ctx));
  if (const json::value* streams = o->if_contains("streams")) {
    const json::array* a = streams->if_array();
    if (a == nullptr) return type_error(path + ".streams", "must be an array of streams");
    if (a->size() > kMaxNamesPerList) {
      return type_error(path + ".streams", "more than " + std::to_string(kMaxNamesPerList) + " streams");
    }
    f.streams.resize(a->size());
    for (size_t i = 0; i < a->size(); ++i) {
      CHIRON_RETURN_IF_ERROR(read_stream((*a)[i], path + ".streams[" + std::to_string(i) + "]", f.streams[i]));
    }
  }
  if (const json::value* body = o->if_contains("body")) {
    if (!body->is_string()) return type_error(path + ".body", "must be a string");
    if (body->get_string().size() > kMaxBodyBytes) {
      return type_error(path + ".body", "longer than " + std::to_string(kMaxBodyBytes) + " bytes");
    }
    f.body.assign(body->get_string().data(), body->get_string().size());
  }
  return ok_status();
}

// 1-based line:col of byte `offset` of text (columns count UTF-8 characters).
std::string position(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1;
  size_t col = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

}  // namespace

json::object to_json(const Fluxion& fluxion) {
  json::object o;
  o["id"] = fluxion.id;
  o["tags"] = names_to_json(fluxion.tags);
  o["ctx"] = names_to_json(fluxion.ctx);
  json::array streams;
  streams.reserve(fluxion.streams.size());
  for (const Stream& s : fluxion.streams) {
    json::object so;
    so["type"] = stream_type_name(s.type);
    so["dest"] = names_to_json(s.dest);
    so["vars"] = names_to_json(s.vars);
    streams.emplace_back(std::move(so));
  }
  o["streams"] = std::move(streams);
  o["body"] = fluxion.body;
  return o;
}

json::object to_json(const Program& program) {
  json::object o;
  o["version"] = 1;
  json::array fluxions;
  fluxions.reserve(program.fluxions.size());
  for (const Fluxion& f : program.fluxions) fluxions.emplace_back(to_json(f));
  o["fluxions"] = std::move(fluxions);
  return o;
}

Result<Program> from_json(const json::value& doc) {
  const json::object* o = doc.if_object();
  if (o == nullptr) return Status::invalid_argument("document: must be a JSON object");
  const json::value* version = o->if_contains("version");
  if (version == nullptr) return Status::invalid_argument("version: missing (must be 1)");
  const auto v = version->if_int64();
  const auto u = version->if_uint64();
  if (!((v && *v == 1) || (u && *u == 1))) return Status::invalid_argument("version: must be 1");
  const json::value* fluxions = o->if_contains("fluxions");
  if (fluxions == nullptr) return Status::invalid_argument("fluxions: missing (must be an array of fluxions)");
  const json::array* a = fluxions->if_array();
  if (a == nullptr) return Status::invalid_argument("fluxions: must be an array of fluxions");
  if (a->size() > kMaxFluxions) {
    return Status::invalid_argument("fluxions: more than " + std::to_string(kMaxFluxions) + " fluxions");
  }
  Program program;
  program.fluxions.resize(a->size());
  for (size_t i = 0; i < a->size(); ++i) CHIRON_RETURN_IF_ERROR(read_fluxion((*a)[i], i, program.fluxions[i]));
  CHIRON_RETURN_IF_ERROR(validate(program));
  return program;
}

Result<Program> read_json(std::string_view json_text) {
  if (json_text.size() > kMaxDocumentBytes) {
    return Status::invalid_argument("1:1: JSON document longer than " + std::to_string(kMaxDocumentBytes) +
                                    " bytes");
  }
  json::parse_options opts;
  opts.max_depth = 64;
  json::stream_parser parser({}, opts);
  boost::system::error_code ec;
  const size_t consumed = parser.write(json_text.data(), json_text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    return Status::invalid_argument(position(json_text, ec == json::error::incomplete ? json_text.size() : consumed) +
                                    ": invalid JSON (" + ec.message() + ")");
  }
  return from_json(parser.release());
}

}  // namespace chiron::flux
