// App data shaped like the runtime's value markers (security review): a class instance built
// from the query string travels to a pool fluxion as a data projection.
const express = require('express');
const fs = require('fs');
const app = express();
function Rec() {}
app.get('/r', function h(req, res) {
  res.setHeader('X-A', '1');
  const rec = Object.assign(new Rec(), req.query);
  fs.stat(__filename, function w(err, st) {
    const k = Object.keys(rec).length;
    const shown = Object.keys(rec).map((x) => x + ':' + typeof rec[x] + ':' + rec[x]).join(',');
    setImmediate(function reply() { res.send('k=' + k + ' ' + shown); });
  });
});
app.listen(Number(process.env.PORT), '127.0.0.1', function () { console.log('listening'); });
