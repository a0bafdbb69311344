// fluxc compile time (issue 8: "record compile time per 1,000 lines of JS"): synthetic express
// apps of 1k, 10k and 50k lines (deterministic: routes with a file read and a timer, shared
// counters, helper functions), timed phase by phase — parse (tree-sitter), scope analysis,
// the rest of compile() (rupture points, fluxions, placement, bodies) and the fluxional text.
// Prints the best of --runs runs per size, in ms and in ms per 1,000 lines.
//
//   build-bench/bench/fluxc_bench [--runs 5] [--sizes 1000,10000,50000] [--dump N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fluxc/compile.h"

namespace {

using namespace chiron;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// About `lines` lines of an express app; the same text for the same argument.
std::string synthetic_app(size_t lines) {
  std::string js =
      "'use strict';\n"
      "var express = require('express'),\n"
      "    app = express(),\n"
      "    fs = require('fs'),\n"
      "    path = require('path'),\n"
      "    crypto = require('crypto');\n"
      "var hits0 = 0, hits1 = 0, hits2 = 0, hits3 = 0, hits4 = 0, last = '';\n"
      "var prefix = 'item-';\n\n"
      "function template(text, id, n) {\n"
      "  return '<p>' + prefix + id + ': ' + text + ' (' + n + ')</p>';\n"
      "}\n\n";
  size_t have = count_lines(js);
  for (size_t i = 0; have < lines; ++i) {
    const size_t before = js.size();
    const std::string n = std::to_string(i);
    const std::string h = "hits" + std::to_string(i % 5);
    if (i % 4 == 3) {
      js += "function helper" + n + "(x) {\n  var s = 0;\n  for (var k = 0; k < x; k++) {\n    s += k * " + n +
            ";\n  }\n  return s;\n}\n\n";
      have += count_lines(js.substr(before));
      continue;
    }
    js += "app.get('/r" + n + "/:id', function route" + n + "(req, res) {\n";
    js += "  var id = req.params.id || '" + n + "';\n";
    js += "  " + h + " += 1;\n";
    js += "  last = req.url;\n";
    js += "  fs.readFile(path.join(__dirname, 'f" + n + ".txt'), function read" + n + "(err, data) {\n";
    js += "    if (err) {\n      res.status(404).send(err.message);\n      return;\n    }\n";
    js += "    var text = String(data).slice(0, " + std::to_string(i % 50 + 1) + ");\n";
    js += "    crypto.randomBytes(4, function (e, salt) {\n";
    js += "      res.send(template(text + salt.toString('hex'), id, " + h + ") + last);\n";
    js += "    });\n  });\n});\n\n";
    have += count_lines(js.substr(before));
  }
  js += "app.listen(8080);\n";
  return js;
}

struct Times {
  double parse = 1e300, scope = 1e300, all = 1e300, text = 1e300, compile = 0;
};

int run(size_t target, int runs) {
  const std::string src = synthetic_app(target);
  const size_t lines = count_lines(src);
  Times best;
  size_t fluxions = 0;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    auto tree = fluxc::SyntaxTree::parse(src, "synthetic.js");
    double parse_ms = ms_since(t0);
    if (!tree.ok()) {
      std::fprintf(stderr, "parse: %s\n", tree.status().to_string().c_str());
      return 1;
    }
    t0 = Clock::now();
    auto scopes = fluxc::analyze_scopes(*tree);
    double scope_ms = ms_since(t0);
    if (!scopes.ok()) {
      std::fprintf(stderr, "scope: %s\n", scopes.status().to_string().c_str());
      return 1;
    }
    fluxc::CompileOptions o;
    o.filename = "synthetic.js";
    t0 = Clock::now();
    auto c = fluxc::compile(src, o);  // parse + scope + the compiler proper
    double all_ms = ms_since(t0);
    if (!c.ok()) {
      std::fprintf(stderr, "compile: %s\n", c.status().to_string().c_str());
      return 1;
    }
    t0 = Clock::now();
    std::string text = fluxc::to_text(*c);
    double text_ms = ms_since(t0);
    fluxions = c->fluxions.size();
    best.parse = std::min(best.parse, parse_ms);
    best.scope = std::min(best.scope, scope_ms);
    best.all = std::min(best.all, all_ms);
    best.text = std::min(best.text, text_ms);
  }
  // compile() parses and analyses again: the compiler proper is its best time minus theirs.
  best.compile = std::max(0.0, best.all - best.parse - best.scope);
  const double k = static_cast<double>(lines) / 1000.0;
  const double total = best.parse + best.scope + best.compile + best.text;
  std::printf("%7zu lines %6zu fluxions | parse %8.2f ms | scope %8.2f ms | compile %8.2f ms | text %7.2f ms | "
              "total %8.2f ms = %6.2f ms per 1,000 lines (parse %.2f, scope %.2f, compile %.2f, text %.2f) | "
              "compile() alone %8.2f ms\n",
              lines, fluxions, best.parse, best.scope, best.compile, best.text, total, total / k, best.parse / k,
              best.scope / k, best.compile / k, best.text / k, best.all);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  std::vector<size_t> sizes = {1000, 10000, 50000};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      std::string s = argv[++i];
      for (size_t p = 0; p < s.size();) {
        size_t q = s.find(',', p);
        sizes.push_back(static_cast<size_t>(std::atol(s.substr(p, q - p).c_str())));
        p = q == std::string::npos ? s.size() : q + 1;
      }
    } else if (a == "--dump" && i + 1 < argc) {
      std::fputs(synthetic_app(static_cast<size_t>(std::atol(argv[++i]))).c_str(), stdout);
      return 0;
    } else {
      std::fprintf(stderr, "usage: fluxc_bench [--runs N] [--sizes 1000,10000,50000] [--dump LINES]\n");
      return 2;
    }
  }
  std::printf("fluxc compile time, best of %d runs (synthetic express apps)\n", runs);
  for (size_t n : sizes) {
    if (int rc = run(n, runs); rc != 0) return rc;
  }
  return 0;
}
