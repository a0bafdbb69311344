// File reads: an isolated handler reads the request (params, query) and a file, a reply
// sends it; a missing file is a 404.
const express = require('express');
const fs = require('fs');
const path = require('path');
const app = express();
const FIXTURES = path.join(__dirname, 'fixtures');

app.get('/file/:name', function onFile(req, res) {
  const name = req.params.name;
  const upper = req.query.upper === '1';
  fs.readFile(path.join(FIXTURES, name), function sendFile(err, data) {
    if (err) {
      res.status(404).type('text/plain').send('no such file: ' + name + '\n');
      return;
    }
    res.type(path.extname(name) || 'application/octet-stream');
    res.send(upper ? Buffer.from(data.toString('latin1').toUpperCase(), 'latin1') : data);
  });
});

app.get('/size/:name', function onSize(req, res) {
  fs.stat(path.join(FIXTURES, req.params.name), function sendSize(err, st) {
    res.json(err ? { error: err.code } : { name: req.params.name, size: st.size });
  });
});

app.get('/ping', function ping(req, res) {
  res.send('pong');
});

app.listen(Number(process.env.PORT), '127.0.0.1', function () { console.log('listening'); });
