// A persistent variable written by one isolated fluxion (its own worker, ctx kept across
// requests) and carried to the reply on the main thread (the persistent stream golden).
var app = require('express')(), fs = require('fs');
var last = 'start';

app.get('/last/:v', function remember(req, res) {
  last = req.params.v + '<' + last.length;
  fs.stat(__dirname, function answer(err, st) {
    res.type('text/plain').send('last=' + last + ' dir=' + (!err && st.isDirectory()) + '\n');
  });
});

app.get('/ping', function ping(req, res) {
  res.send('pong');
});

app.listen(Number(process.env.PORT), '127.0.0.1', function () { console.log('listening'); });
