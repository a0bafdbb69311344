#include "kernel/trace_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <unordered_map>

#include "common/log.h"
#include "common/strings.h"

namespace chiron::kernel {
namespace {

struct Interval {
  int lane;
  int type;
  int64_t begin_us;
  int64_t end_us;
  bool open;  // no act_end seen
};

// Distinct, colour-blind friendly (Okabe–Ito + Tableau extras).
constexpr const char* kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                                    "#F0E442", "#4E79A7", "#B07AA1", "#9C755F", "#76B7B2", "#FF9DA7"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

std::string colour(int type) {
  if (type < kPaletteSize) return kPalette[type];
  char buf[32];
  std::snprintf(buf, sizeof buf, "hsl(%d,65%%,50%%)", (type * 137) % 360);
  return buf;
}

// XML 1.0 text: escapes markup, drops control characters, keeps valid UTF-8 only.
std::string xml_escape(std::string_view s) {
  std::string out;
  const bool utf8 = is_valid_utf8(s);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20) out += ' ';
        else if (c >= 0x80 && !utf8) out += '?';
        else out += ch;
    }
  }
  return out;
}

int device_rank(std::string_view device) {
  static constexpr std::string_view kOrder[] = {"cpu", "disk", "net", "timer", "ext"};
  for (int i = 0; i < 5; ++i)
    if (device == kOrder[i]) return i;
  return 5;
}

// Lanes sort by device (cpu, disk, net, timer, ext, others) then by numeric index.
bool lane_less(const std::string& a, const std::string& b) {
  auto split_lane = [](const std::string& l) {
    size_t slash = l.find('/');
    std::string dev = l.substr(0, slash);
    long idx = -1;
    if (slash != std::string::npos) {
      auto r = parse_u64(std::string_view(l).substr(slash + 1));
      if (r.ok() && *r < 1'000'000) idx = static_cast<long>(*r);
    }
    return std::tuple(device_rank(dev), dev, idx, l);
  };
  return split_lane(a) < split_lane(b);
}

double nice_step(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

}  // namespace

std::string render_trace_svg(const TraceFile& trace, const TraceSvgOptions& options) {
  std::vector<const TraceRecord*> recs;
  recs.reserve(trace.records.size());
  for (const auto& r : trace.records) recs.push_back(&r);
  std::stable_sort(recs.begin(), recs.end(), [](auto* a, auto* b) { return a->ts_us < b->ts_us; });

  std::vector<std::string> lanes;
  std::unordered_map<std::string, int> lane_index;
  std::vector<std::string> types;
  std::unordered_map<std::string, int> type_index;
  std::vector<size_t> type_count;
  auto lane_of = [&](const std::string& l) {
    auto [it, fresh] = lane_index.try_emplace(l, static_cast<int>(lanes.size()));
    if (fresh) lanes.push_back(l);
    return it->second;
  };
  auto type_of = [&](const std::string& t) {
    auto [it, fresh] = type_index.try_emplace(t, static_cast<int>(types.size()));
    if (fresh) types.push_back(t), type_count.push_back(0);
    return it->second;
  };

  int64_t t0 = recs.empty() ? 0 : recs.front()->ts_us;
  int64_t t1 = recs.empty() ? 1 : recs.back()->ts_us;
  if (t1 <= t0) t1 = t0 + 1;
  std::map<std::pair<int, uint64_t>, std::pair<int64_t, int>> open;  // (lane, kernel) → (begin, type)
  std::vector<Interval> bars;
  std::vector<std::pair<int, int64_t>> failures;
  for (const TraceRecord* r : recs) {
    int lane = lane_of(r->lane);
    if (r->event == "act_begin") {
      open[{lane, r->kernel}] = {r->ts_us, type_of(r->type)};
    } else if (r->event == "act_end") {
      auto it = open.find({lane, r->kernel});
      if (it == open.end()) continue;
      bars.push_back({lane, it->second.second, it->second.first, r->ts_us, false});
      open.erase(it);
    } else if (r->event == "failed") {
      failures.emplace_back(lane, r->ts_us);
    }
  }
  for (auto& [key, value] : open) bars.push_back({key.first, value.second, value.first, t1, true});
  for (const Interval& b : bars) ++type_count[static_cast<size_t>(b.type)];

  // Lanes in display order; lanes with nothing to draw (e.g. a submitter's "queued"
  // events) are left out unless nothing at all would be drawn.
  std::vector<bool> drawn(lanes.size(), bars.empty() && failures.empty());
  for (const Interval& b : bars) drawn[static_cast<size_t>(b.lane)] = true;
  for (auto& f : failures) drawn[static_cast<size_t>(f.first)] = true;
  std::vector<int> order;
  for (size_t i = 0; i < lanes.size(); ++i)
    if (drawn[i]) order.push_back(static_cast<int>(i));
  std::sort(order.begin(), order.end(), [&](int a, int b) { return lane_less(lanes[a], lanes[b]); });
  std::vector<int> row(lanes.size());
  for (size_t i = 0; i < order.size(); ++i) row[static_cast<size_t>(order[i])] = static_cast<int>(i);

  const int width = std::max(options.width_px, 400);
  const int left = 90, right = 20, top = 48, lane_h = std::max(options.lane_height_px, 6), gap = 4;
  const int plot_w = width - left - right;
  const int plot_h = static_cast<int>(order.size()) * (lane_h + gap);
  const int legend_cols = std::max(1, plot_w / 200);
  const int legend_rows = (static_cast<int>(types.size()) + legend_cols - 1) / legend_cols;
  const int height = top + plot_h + 36 + legend_rows * 18 + 16;
  const double span_us = static_cast<double>(t1 - t0);
  auto x_of = [&](int64_t ts) { return left + static_cast<double>(ts - t0) / span_us * plot_w; };

  std::string svg;
  svg.reserve(4096 + bars.size() * 64);
  svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
         "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  std::string subtitle = std::to_string(bars.size()) + " kernels on " + std::to_string(order.size()) +
                         " lanes, " + fmt(span_us / 1000.0) + " ms";
  if (trace.skipped_lines > 0) subtitle += " (" + std::to_string(trace.skipped_lines) + " malformed lines skipped)";
  svg += "<text x=\"" + std::to_string(left) + "\" y=\"18\" font-size=\"14\" font-weight=\"bold\">" +
         xml_escape(options.title) + "</text>\n";
  svg += "<text x=\"" + std::to_string(left) + "\" y=\"34\" fill=\"#555\">" + xml_escape(subtitle) + "</text>\n";

  // Axis ticks and grid (ms).
  const double span_ms = span_us / 1000.0;
  const double step = nice_step(span_ms / 10.0);
  const int axis_y = top + plot_h + 4;
  svg += "<g stroke=\"#ddd\">\n";
  for (int i = 0; i * step <= span_ms * 1.0000001 && i < 1000; ++i) {
    double x = left + (i * step) / span_ms * plot_w;
    svg += "<line x1=\"" + fmt(x) + "\" y1=\"" + std::to_string(top - 4) + "\" x2=\"" + fmt(x) + "\" y2=\"" +
           std::to_string(axis_y) + "\"/>\n";
  }
  svg += "</g>\n<g text-anchor=\"middle\" fill=\"#333\">\n";
  for (int i = 0; i * step <= span_ms * 1.0000001 && i < 1000; ++i) {
    double x = left + (i * step) / span_ms * plot_w;
    svg += "<text x=\"" + fmt(x) + "\" y=\"" + std::to_string(axis_y + 14) + "\">" + fmt(i * step) + "</text>\n";
  }
  svg += "</g>\n<text x=\"" + std::to_string(left + plot_w) + "\" y=\"" + std::to_string(axis_y + 28) +
         "\" text-anchor=\"end\" fill=\"#333\">time, ms</text>\n";

  // Lane labels and backgrounds.
  for (size_t i = 0; i < order.size(); ++i) {
    int y = top + static_cast<int>(i) * (lane_h + gap);
    svg += "<rect x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
           std::to_string(plot_w) + "\" height=\"" + std::to_string(lane_h) + "\" fill=\"#f4f4f4\"/>\n";
    svg += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + std::to_string(y + lane_h / 2 + 4) +
           "\" text-anchor=\"end\">" + xml_escape(lanes[static_cast<size_t>(order[i])]) + "</text>\n";
  }

  // Bars: merge same-type bars that touch at pixel resolution, so huge traces stay small.
  std::sort(bars.begin(), bars.end(), [&](const Interval& a, const Interval& b) {
    return std::tie(row[static_cast<size_t>(a.lane)], a.begin_us) < std::tie(row[static_cast<size_t>(b.lane)], b.begin_us);
  });
  auto emit = [&](int lane, int type, double x0, double x1, bool dashed) {
    int y = top + row[static_cast<size_t>(lane)] * (lane_h + gap) + 2;
    svg += "<rect x=\"" + fmt(x0) + "\" y=\"" + std::to_string(y) + "\" width=\"" + fmt(std::max(x1 - x0, 0.75)) +
           "\" height=\"" + std::to_string(lane_h - 4) + "\" fill=\"" + colour(type) + "\"" +
           (dashed ? " fill-opacity=\"0.45\"" : "") + "/>\n";
  };
  struct Run {
    double x0, x1;
    bool dashed;
  };
  std::map<int, Run> runs;  // type → pending run on the current lane
  int cur_lane = -1;
  auto flush = [&] {
    for (auto& [type, run] : runs) emit(cur_lane, type, run.x0, run.x1, run.dashed);
    runs.clear();
  };
  for (const Interval& b : bars) {
    if (b.lane != cur_lane) {
      flush();
      cur_lane = b.lane;
    }
    double x0 = x_of(b.begin_us), x1 = x_of(b.end_us);
    auto it = runs.find(b.type);
    if (it != runs.end() && it->second.dashed == b.open && x0 <= it->second.x1 + 0.5) {
      it->second.x1 = std::max(it->second.x1, x1);
      continue;
    }
    if (it != runs.end()) emit(cur_lane, b.type, it->second.x0, it->second.x1, it->second.dashed);
    runs[b.type] = Run{x0, x1, b.open};
  }
  flush();

  for (auto& [lane, ts] : failures) {
    double x = x_of(ts);
    int y = top + row[static_cast<size_t>(lane)] * (lane_h + gap);
    svg += "<path d=\"M" + fmt(x) + " " + std::to_string(y) + " l4 -6 h-8 z\" fill=\"#d00\"/>\n";
  }

  // Legend.
  const int legend_y = axis_y + 40;
  for (size_t i = 0; i < types.size(); ++i) {
    int col = static_cast<int>(i) % legend_cols, r = static_cast<int>(i) / legend_cols;
    int x = left + col * 200, y = legend_y + r * 18;
    svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y - 10) + "\" width=\"12\" height=\"12\" fill=\"" +
           colour(static_cast<int>(i)) + "\"/>\n";
    svg += "<text x=\"" + std::to_string(x + 16) + "\" y=\"" + std::to_string(y) + "\">" + xml_escape(types[i]) + " (" +
           std::to_string(type_count[i]) + ")</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

Status render_trace_svg(const std::string& jsonl_in, const std::string& svg_out) {
  auto trace = read_trace_file(jsonl_in);
  if (!trace.ok()) return std::move(trace).status().context("render trace");
  if (trace->records.empty()) {
    std::string why = "no valid trace events in " + jsonl_in;
    if (trace->skipped_lines > 0)
      why += " (" + std::to_string(trace->skipped_lines) + " malformed lines; " + trace->first_error + ")";
    return Status::invalid_argument(why);
  }
  if (trace->skipped_lines > 0)
    log::warn("kernel", "skipped malformed trace lines",
              {{"count", trace->skipped_lines}, {"first_error", trace->first_error}});
  std::string svg = render_trace_svg(*trace);
  std::string tmp = svg_out + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::io_error("cannot create " + tmp);
    out.write(svg.data(), static_cast<std::streamsize>(svg.size()));
    if (!out) return Status::io_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), svg_out.c_str()) != 0) return Status::from_errno("rename " + tmp, errno);
  return {};
}

}  // namespace chiron::kernel
