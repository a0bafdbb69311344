// Fluxions that throw (docs/fluxc.md "Running compiled apps", Errors): express answers 500
// for a handler that throws; the compiled app must too, wherever the fluxion runs.
const express = require('express');
const fs = require('fs');
const app = express();

// on the main thread (it answers itself)
app.get('/main', function onMain(req, res) {
  if (req.query.boom) throw new Error('main boom');
  res.send('main ok');
});

// on a pool worker (it only carries res to its continuation)
app.get('/pool', function onPool(req, res) {
  if (req.query.boom) throw new Error('pool boom');
  fs.stat(__filename, function poolDone(err, st) {
    res.send('pool ok ' + (st.size > 0));
  });
});

// an error whose code cannot be cloned (a function) thrown on a pool worker
app.get('/code', function onCode(req, res) {
  if (req.query.boom) { const e = new Error('code boom'); e.code = function () {}; throw e; }
  fs.stat(__filename, function codeDone(err, st) {
    res.send('code ok');
  });
});

app.get('/ping', function ping(req, res) { res.send('pong'); });

app.listen(Number(process.env.PORT), '127.0.0.1', function () { console.log('listening'); });
