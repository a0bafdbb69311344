// JSON in, binary out: the body is read with raw-body (and, on a second route, with
// req.on('data')), parsed, and answered as little-endian int32s (application/octet-stream).
const express = require('express');
const getRawBody = require('raw-body');
const app = express();

function pack(values) {
  const out = Buffer.alloc(4 * values.length);
  values.forEach(function (v, i) { out.writeInt32LE(v | 0, 4 * i); });
  return out;
}

app.post('/pack', function onPack(req, res) {
  res.set('X-Route', 'pack');
  getRawBody(req, { limit: '1mb' }, function packed(err, body) {
    if (err) {
      res.status(400).type('text/plain').send('bad body\n');
      return;
    }
    let doc;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch (e) {
      res.status(400).type('text/plain').send('bad json\n');
      return;
    }
    const values = Array.isArray(doc.values) ? doc.values : [];
    res.set('Content-Type', 'application/octet-stream').send(pack(values));
  });
});

app.post('/sum', function onSum(req, res) {
  const chunks = [];
  req.on('data', function (c) { chunks.push(c); });
  req.on('end', function () {
    const doc = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    const total = (doc.values || []).reduce(function (a, b) { return a + b; }, 0);
    const out = Buffer.alloc(8);
    out.writeDoubleLE(total, 0);
    res.type('application/octet-stream').send(out);
  });
});

app.get('/ping', function ping(req, res) {
  res.send('pong');
});

app.listen(Number(process.env.PORT), '127.0.0.1', function () { console.log('listening'); });
