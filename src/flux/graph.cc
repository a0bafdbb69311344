// The fluxion model: names, lookups and the structural checks both readers share.
#include "flux/graph.h"

#include <string>
#include <unordered_map>
#include <unordered_set>

#include "flux/graph_internal.h"

namespace chiron::flux {

std::string_view stream_type_name(StreamType t) { return t == StreamType::kStart ? "start" : "post"; }
std::string_view stream_arrow(StreamType t) { return t == StreamType::kStart ? ">>" : "->"; }

const Fluxion* Program::find(std::string_view id) const {
  for (const Fluxion& f : fluxions) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || s == "null") return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 0 ? !detail::is_ident_start(s[i]) : !detail::is_ident_char(s[i])) return false;
  }
  return true;
}

namespace detail {

std::string quote(std::string_view s) {
  constexpr size_t kMaxShown = 40;
  std::string out = "'";
  size_t shown = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (shown == kMaxShown) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
    if ((c & 0xc0) != 0x80) ++shown;  // count characters, not UTF-8 continuation bytes
  }
  out += '\'';
  return out;
}

std::string path_of(size_t fluxion, std::string_view field) {
  std::string p = "fluxions[" + std::to_string(fluxion) + "]";
  if (!field.empty()) {
    p += '.';
    p += field;
  }
  return p;
}

}  // namespace detail

namespace {

// Names must be identifiers and distinct within their list; `what` says which list ("tag").
Status check_names(const std::vector<std::string>& names, const std::string& path, std::string_view what) {
  if (names.size() > kMaxNamesPerList) {
    return Status::invalid_argument(path + ": more than " + std::to_string(kMaxNamesPerList) + " names");
  }
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!is_identifier(names[i])) {
      return Status::invalid_argument(at + ": " + detail::quote(names[i]) + " is not a valid " + std::string(what));
    }
    if (!seen.insert(names[i]).second) {
      return Status::invalid_argument(at + ": duplicate " + std::string(what) + " " + detail::quote(names[i]));
    }
  }
  return ok_status();
}

}  // namespace

Status validate(const Program& program) {
  if (program.fluxions.size() > kMaxFluxions) {
    return Status::invalid_argument("fluxions: more than " + std::to_string(kMaxFluxions) + " fluxions");
  }
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = 0; i < program.fluxions.size(); ++i) {
    const Fluxion& f = program.fluxions[i];
    if (!is_identifier(f.id)) {
      return Status::invalid_argument(detail::path_of(i, "id") + ": " + detail::quote(f.id) +
                                      " is not a valid fluxion id");
    }
    auto [it, fresh] = index.emplace(f.id, i);
    if (!fresh) {
      return Status::invalid_argument(detail::path_of(i, "id") + ": duplicate fluxion id " + detail::quote(f.id) +
                                      " (also fluxions[" + std::to_string(it->second) + "])");
    }
  }
  for (size_t i = 0; i < program.fluxions.size(); ++i) {
    const Fluxion& f = program.fluxions[i];
    CHIRON_RETURN_IF_ERROR(check_names(f.tags, detail::path_of(i, "tags"), "tag"));
    CHIRON_RETURN_IF_ERROR(check_names(f.ctx, detail::path_of(i, "ctx"), "context variable"));
    if (f.body.size() > kMaxBodyBytes) {
      return Status::invalid_argument(detail::path_of(i, "body") + ": longer than " + std::to_string(kMaxBodyBytes) +
                                      " bytes");
    }
    if (f.streams.size() > kMaxNamesPerList) {
      return Status::invalid_argument(detail::path_of(i, "streams") + ": more than " +
                                      std::to_string(kMaxNamesPerList) + " streams");
    }
    for (size_t s = 0; s < f.streams.size(); ++s) {
      const Stream& st = f.streams[s];
      const std::string sp = detail::path_of(i, "streams[" + std::to_string(s) + "]");
      if (st.dest.empty()) return Status::invalid_argument(sp + ".dest: must name at least one fluxion");
      CHIRON_RETURN_IF_ERROR(check_names(st.dest, sp + ".dest", "fluxion id"));
      CHIRON_RETURN_IF_ERROR(check_names(st.vars, sp + ".vars", "message variable"));
      for (size_t d = 0; d < st.dest.size(); ++d) {
        if (!index.contains(st.dest[d])) {
          return Status::invalid_argument(sp + ".dest[" + std::to_string(d) + "]: unknown fluxion " +
                                          detail::quote(st.dest[d]));
        }
      }
    }
  }
  return ok_status();
}

}  // namespace chiron::flux
