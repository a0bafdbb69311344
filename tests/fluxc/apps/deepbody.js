// A JSON body nested 40,000 levels deep reaches a pool fluxion through req (security review):
// the compiled server must survive it and keep serving.
const express = require('express');
const fs = require('fs');
const app = express();
app.use(express.json({ limit: '1mb' }));
app.post('/c', function onMain(req, res) {
  res.setHeader('X-A', '1');
  fs.stat(__filename, function measure(err, st) {
    const n = Array.isArray(req.body) ? req.body.length : Object.keys(req.body).length;
    const proto = Object.prototype.hasOwnProperty.call(req.body, '__proto__') ? JSON.stringify(req.body) : '';
    setImmediate(function reply() { res.send('n=' + n + proto); });
  });
});
// A value that cannot be packed (a plain object whose enumerable getter throws when read):
// the message truly cannot go.
app.get('/getter', function onGetter(req, res) {
  res.setHeader('X-A', '1');
  const rec = {};
  Object.defineProperty(rec, 'x', { enumerable: true, get() { throw new Error('getter refuses'); } });
  fs.stat(__filename, function measureGetter(err, st) {
    const k = Object.keys(rec).length;
    setImmediate(function replyGetter() { res.send('k=' + k); });
  });
});
app.get('/ping', function ping(req, res) { res.send('pong'); });
app.listen(Number(process.env.PORT), '127.0.0.1', function () { console.log('listening'); });
