// A chunked response: five chunks written by a timer, then the end.
const express = require('express');
const app = express();

app.get('/stream', function onStream(req, res) {
  res.set('Content-Type', 'text/plain; charset=utf-8');
  let n = 0;
  const timer = setInterval(function tick() {
    n += 1;
    res.write('chunk ' + n + '\n');
    if (n === 5) {
      clearInterval(timer);
      res.end('done\n');
    }
  }, 5);
});

app.get('/later', function onLater(req, res) {
  const started = req.query.tag || 'none';
  setTimeout(function answer() {
    res.type('text/plain').send('later ' + started + '\n');
  }, 10);
});

app.get('/ping', function ping(req, res) {
  res.send('pong');
});

app.listen(Number(process.env.PORT), '127.0.0.1', function () { console.log('listening'); });
