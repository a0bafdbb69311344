#pragma once
// DESIGN — ns: the name server's pure core (the elastic-name-server paper's service registry
// and load balancer, ../shared/papers/elastic-name-server.txt, rebuilt per
// ../shared/research/nameserver.md §2 and §7). No I/O: the `chiron ns` front end (line/RESP
// verbs REG/REM/REQ/ALG/HB, admin HTTP, persistence) is built on top of this.
//
// Model: service → Pool → Server {id "ip:port", weight, admin ready|drain|maint,
// health pending|up|down, lease deadline, reported load, counters}. No fixed limits: servers
// live in stable slots with a hash index, tested with 10,000 per pool.
//
// Eligibility: only admin=ready AND health=up servers with effective weight > 0 are picked.
// Drain gives no new picks at all, sticky keys included: a look-aside name server cannot tell
// a returning client from a new one, and existing clients keep their connections anyway
// (they never come back through us). For chash/maglev a drained server's keys move to their
// next owner as if it had been removed, and come back when it is ready again.
// An empty eligible set is Status kUnavailable, never a crash.
//
// Algorithms (ALG, switchable at run time per pool; names and aliases in balancer.h):
//   rr       round robin over the eligible list                       O(1)
//   random   uniform random                                           O(1)
//   wrandom  weighted random, cumulative ranges + binary search       O(log n)
//   swrr     nginx smooth weighted RR (5,1,1 → a a b a c a a)         O(n): small pools only
//   edf      Envoy EDF weighted RR (5,1,1 → a a a a b c a)            O(log n): large pools
//   least    least load (reported + assigned since report), P2C       O(1)
//   chash    ketama ring with bounded loads (c = 1.25)                O(log P)
//   maglev   Maglev table, M prime (65537)                            O(1)
// swrr vs edf: both give exact weight proportions per cycle; swrr interleaves best but scans
// every server per pick, so pools beyond ~64 servers should use edf.
// Lookup tables are rebuilt lazily on the first pick after a change (Pool::version()).
// Randomness comes from a seeded PRNG (BalancerOptions::seed): deterministic in tests; the
// server should seed each pool randomly so replicas do not herd in lock-step.
// Weights are integers 0..10,000; the effective weight also applies the heartbeat's
// "weight=NN%" and the slow-start ramp (10% → 100% over a window after down→up, from the
// injected Clock).
//
// Threading: not thread-safe. A Pool and its Balancer are confined to one thread; the name
// server serialises each service on one strand (or publishes immutable snapshots).
//
// Data plane (registry.h, protocol.h): Registry maps service → Pool behind one mutex (the
// LineServer runs connections on several threads); execute() runs one verb (REG REM HB REQ
// ALG STATE LIST PING COMMAND) and returns a neutral Reply that the app encodes as RESP.
// In memory only for now: no persistence, auth, health checks or leases yet.

#include "ns/balancer.h"
#include "ns/pool.h"
#include "ns/protocol.h"
#include "ns/registry.h"
#include "ns/server.h"
