#pragma once
// `chiron fluxc -o OUTDIR`: turns a Compilation into a runnable Node.js program (docs/fluxc.md
// "Running compiled apps"):
//   OUTDIR/main.js               entry: `node OUTDIR/main.js` behaves like the original app
//   OUTDIR/fluxions/<id>.js      one module per fluxion: {id, tags, group, run(msg, ctx, rt)}
//   OUTDIR/placement.json        groups (connected components of shared tags) → thread:
//                                "main" (the group holding main), "worker:<n>", or "pool"
//   OUTDIR/flx-runtime.js        the runtime on worker_threads (source: src/fluxc/runtime/)
// The group holding the network fluxions stays on the main thread; each other tag group is
// pinned to one worker; replicable fluxions run on a pool of workers. Messages between threads
// are structured clones; values that cannot be cloned (req, res, sockets, functions) travel as
// handles owned by their group, and using one elsewhere throws an Error with code
// FLX_ISOLATION. FLX_TRACE=<file> makes the runtime write {fluxion, thread, t0, t1} JSON lines
// that `chiron trace` draws. FLX_WORKERS=<n> sizes the pool (default: cores).
//
// Writes files only under outdir (created; existing files of ours are replaced).

#include <filesystem>
#include <string>

#include "common/status.h"
#include "fluxc/compile.h"

namespace chiron::fluxc {

struct EmitOptions {
  // Absolute path of the original input: emitted modules resolve require() and pin
  // __filename/__dirname relative to it.
  std::filesystem::path original;
};

Status emit(const Compilation& c, const std::filesystem::path& outdir, const EmitOptions& options);

}  // namespace chiron::fluxc
