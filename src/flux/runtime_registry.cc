// Registry: every fluxion graph of the process as one program (runtime.h).
#include <set>
#include <string>

#include <boost/json/array.hpp>

#include "common/check.h"
#include "flux/runtime.h"

namespace chiron::flux {

Registry::Registry(const Clock& clock) : clock_(clock) {}

Registry::~Registry() {
  std::lock_guard lock(mu_);
  CHIRON_CHECK(graphs_.empty(), "flux: a Registry destroyed before its graphs");
}

Status Registry::add(detail::Core* graph) {
  std::lock_guard lock(mu_);
  std::set<std::string> ids;
  for (detail::Core* g : graphs_)
    for (const Fluxion& f : g->program().fluxions) ids.insert(f.id);
  for (const Fluxion& f : graph->program().fluxions) {
    if (ids.contains(f.id)) {
      return Status::already_exists("graph '" + graph->name() + "': fluxion id '" + f.id +
                                    "' is already used in this process");
    }
  }
  graphs_.push_back(graph);
  return {};
}

void Registry::remove(detail::Core* graph) {
  std::lock_guard lock(mu_);
  std::erase(graphs_, graph);
}

size_t Registry::size() const {
  std::lock_guard lock(mu_);
  return graphs_.size();
}

Program Registry::program() const {
  std::lock_guard lock(mu_);
  Program p;
  for (detail::Core* g : graphs_)
    for (Fluxion& f : g->program().fluxions) p.fluxions.push_back(std::move(f));
  return p;
}

std::vector<FluxionStats> Registry::stats() const {
  std::lock_guard lock(mu_);
  std::vector<FluxionStats> out;
  for (detail::Core* g : graphs_)
    for (FluxionStats& s : g->stats()) out.push_back(std::move(s));
  return out;
}

boost::json::object Registry::to_json() const {
  namespace json = boost::json;
  json::array fluxions;
  for (const FluxionStats& s : stats()) {
    json::object o = flux::to_json(s.fluxion);
    o["graph"] = s.graph;
    o["device"] = kernel::device_name(s.device);
    o["replicas"] = static_cast<int64_t>(s.replicas);
    o["handled"] = s.handled;
    o["failed"] = s.failed;
    o["rejected"] = s.rejected;
    o["queued"] = s.queued;
    o["busy_us"] = s.busy_us;
    json::array streams;
    json::value* model = o.if_contains("streams");
    for (size_t i = 0; i < s.streams.size(); ++i) {
      json::object so;
      if (model && model->is_array() && i < model->as_array().size() && model->as_array()[i].is_object()) {
        so = model->as_array()[i].as_object();
      } else {
        so["type"] = stream_type_name(s.streams[i].stream.type);
        so["dest"] = json::array(s.streams[i].stream.dest.begin(), s.streams[i].stream.dest.end());
        so["vars"] = json::array(s.streams[i].stream.vars.begin(), s.streams[i].stream.vars.end());
      }
      so["messages"] = s.streams[i].messages;
      so["rate"] = s.streams[i].rate;
      streams.push_back(std::move(so));
    }
    o["streams"] = std::move(streams);
    fluxions.push_back(std::move(o));
  }
  json::object doc;
  doc["version"] = 1;
  doc["now_ms"] = clock_.unix_ms();
  doc["window_s"] = kRateWindowS;
  doc["fluxions"] = std::move(fluxions);
  return doc;
}

}  // namespace chiron::flux
