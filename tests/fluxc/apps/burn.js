// Parallelism: an isolated handler burns ~200 ms of CPU (a deterministic hash loop), then a
// downstream reply answers. /ping answers at once.
const express = require('express');
const app = express();
const ROUNDS = Number(process.env.BURN_ROUNDS || 180000000);

function burn(seed, rounds) {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < rounds; i++) {
    h ^= i & 0xff;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

app.get('/burn', function handler(req, res) {
  const seed = Number(req.query.seed || 1);
  const digest = burn(seed, ROUNDS).toString(16);
  setImmediate(function reply() {
    res.type('text/plain').send('seed ' + seed + ' digest ' + digest + '\n');
  });
});

app.get('/ping', function ping(req, res) {
  res.send('pong');
});

app.listen(Number(process.env.PORT), '127.0.0.1', function () { console.log('listening'); });
