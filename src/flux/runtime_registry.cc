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
    // flux::to_json wrote the declared streams, in s.streams' order: add the counters to them.
    json::array& streams = o["streams"].as_array();
    for (size_t i = 0; i < s.streams.size() && i < streams.size(); ++i) {
      json::object& so = streams[i].as_object();
      so["messages"] = s.streams[i].messages;
      so["rate"] = s.streams[i].rate;
    }
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
