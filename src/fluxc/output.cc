// The compiler's two outputs: the fluxional text (flux::write_text of the models) and the JSON
// of research §6.12, a superset of flux::to_json's form so flux::from_json reads it back.
#include <boost/json/array.hpp>
#include <unordered_map>

#include "fluxc/compile_internal.h"

namespace chiron::fluxc {
namespace {

namespace json = boost::json;

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const std::string& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

std::string to_text(const Compilation& c) { return flux::write_text(c.program()); }

json::object to_json(const Compilation& c) {
  json::object doc;
  doc["version"] = 1;
  doc["source"] = c.filename;
  json::array fluxions;
  fluxions.reserve(c.fluxions.size());
  std::unordered_map<std::string_view, const CompiledFluxion*> by_id;
  for (const CompiledFluxion& f : c.fluxions) by_id.emplace(f.model.id, &f);
  // The streams of a fluxion, with the callee and the callback parameters of each.
  for (const CompiledFluxion& f : c.fluxions) {
    json::object o;
    o["id"] = f.model.id;
    o["root"] = f.root;
    o["tags"] = strings(f.model.tags);
    o["ctx"] = strings(f.model.ctx);
    o["span"] = json::array{f.begin, f.end};
    if (!f.root) {
      o["parent"] = f.parent;
      o["params"] = strings(f.params);
    }
    o["replicable"] = f.replicable;
    json::array streams;
    for (const flux::Stream& s : f.model.streams) {
      json::object so;
      so["type"] = flux::stream_type_name(s.type);
      so["dest"] = strings(s.dest);
      so["vars"] = strings(s.vars);
      auto it = s.dest.empty() ? by_id.end() : by_id.find(s.dest[0]);
      const CompiledFluxion* d = it == by_id.end() ? nullptr : it->second;
      if (d != nullptr) {
        so["args"] = strings(d->params);
        so["callee"] = d->callee;
        so["line"] = d->line;
      }
      streams.emplace_back(std::move(so));
    }
    o["streams"] = std::move(streams);
    o["body"] = f.model.body;
    fluxions.emplace_back(std::move(o));
  }
  doc["fluxions"] = std::move(fluxions);
  json::array vars;
  vars.reserve(c.variables.size());
  for (const Variable& v : c.variables) {
    json::object o;
    o["name"] = v.name;
    o["class"] = var_class_name(v.cls);
    o["owner"] = v.owner;
    o["persistent"] = v.persistent;
    o["users"] = strings(v.users);
    o["writers"] = strings(v.writers);
    if (!v.tag.empty()) o["tag"] = v.tag;
    if (!v.path.empty()) o["path"] = strings(v.path);
    if (v.copyable_function) o["copyable_function"] = true;
    vars.emplace_back(std::move(o));
  }
  doc["variables"] = std::move(vars);
  doc["requires"] = strings(c.requires_);
  json::array skipped;
  for (const Skipped& s : c.skipped) {
    skipped.emplace_back(json::object{{"callee", s.callee}, {"line", s.line}, {"column", s.column}, {"reason", s.reason}});
  }
  doc["skipped"] = std::move(skipped);
  return doc;
}

}  // namespace chiron::fluxc
