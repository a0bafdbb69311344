#pragma once
// Shared by the flux graph tests: the paper's Listing 2 in canonical fluxional text and a seeded
// generator of random valid Programs (for the round-trip properties).

#include <random>
#include <string>

#include "flux/graph.h"

namespace chiron::flux::testing {

// Listing 2 of ../shared/papers/fluxions-js-event-loop-pipeline.txt with the structure the
// compiler gives (issue 8, golden 1): main & grp_res >> handler [res], handler -> reply [res],
// reply & grp_res {count, template} -> null. main's body holds a blank line.
inline constexpr std::string_view kListing2 =
    "flx main & grp_res\n"
    ">> handler [res]\n"
    "  var app = require('express')(),\n"
    "      fs = require('fs'),\n"
    "      count = 0;\n"
    "\n"
    "  app.get('/', >> handler);\n"
    "  app.listen(8080);\n"
    "\n"
    "flx handler\n"
    "-> reply [res]\n"
    "  function handler(req, res) {\n"
    "    fs.readFile(__filename, -> reply);\n"
    "  }\n"
    "\n"
    "flx reply & grp_res {count, template}\n"
    "-> null\n"
    "  function reply(err, data) {\n"
    "    count += 1;\n"
    "    res.send(err || template(count, data));\n"
    "  }\n";

inline Program listing2_program() {
  Program p;
  p.fluxions.push_back({"main", {"grp_res"}, {}, {{StreamType::kStart, {"handler"}, {"res"}}},
                        "var app = require('express')(),\n    fs = require('fs'),\n    count = 0;\n\n"
                        "app.get('/', >> handler);\napp.listen(8080);"});
  p.fluxions.push_back({"handler", {}, {}, {{StreamType::kPost, {"reply"}, {"res"}}},
                        "function handler(req, res) {\n  fs.readFile(__filename, -> reply);\n}"});
  p.fluxions.push_back({"reply", {"grp_res"}, {"count", "template"}, {},
                        "function reply(err, data) {\n  count += 1;\n  res.send(err || template(count, data));\n}"});
  return p;
}

// A random Program that validate() accepts and whose bodies are text-canonical (no '\r', no
// trailing newline): ids f0..fN-1 with random suffixes, random tags/ctx/streams, bodies built
// from tricky lines (indented `flx`, `>>`, `->`, blank lines, tabs, unicode, trailing spaces).
inline Program random_program(std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  static constexpr std::string_view kNames[] = {"a", "b", "res", "req", "count", "$x", "_y", "tpl2", "grp_res",
                                                "next", "flx", "data"};
  auto names = [&](size_t max) {
    std::vector<std::string> out;
    const size_t n = pick(max + 1);
    for (size_t i = 0; i < n; ++i) {
      std::string name = std::string(kNames[pick(std::size(kNames))]) + std::to_string(i);
      out.push_back(std::move(name));
    }
    return out;
  };
  static constexpr std::string_view kLines[] = {
      "",          "flx main",     ">> handler [res]", "-> null", "  nested();", "\tx = 1;",      "é ü 日本 🚀",
      "trailing  ", " ",           "}",                "{",        "a, b [c]",    "//  flx x & y", "\\n"};
  Program p;
  const size_t n = pick(6);
  for (size_t i = 0; i < n; ++i) {
    Fluxion f;
    f.id = "f" + std::to_string(i) + (pick(2) ? "_$" : "");
    f.tags = names(3);
    f.ctx = names(3);
    p.fluxions.push_back(std::move(f));
  }
  for (Fluxion& f : p.fluxions) {
    const size_t streams = pick(4);
    for (size_t s = 0; s < streams; ++s) {
      Stream st;
      st.type = pick(2) ? StreamType::kStart : StreamType::kPost;
      const size_t first = pick(n);
      const size_t dests = 1 + pick(std::min<size_t>(n, 3));
      for (size_t d = 0; d < dests && d < n; ++d) st.dest.push_back(p.fluxions[(first + d) % n].id);
      st.vars = names(3);
      f.streams.push_back(std::move(st));
    }
    const size_t lines = pick(6);
    for (size_t l = 0; l < lines; ++l) {
      if (l > 0) f.body += '\n';
      f.body += kLines[pick(std::size(kLines))];
    }
    while (f.body.ends_with('\n')) f.body.pop_back();
  }
  return p;
}

}  // namespace chiron::flux::testing
