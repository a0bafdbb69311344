// A continuation that carries res after the response closed (docs/fluxc.md "Handle lifetime"):
// the handles made for it must not outlive their request.
const express = require('express');
const fs = require('fs');
const app = express();

app.get('/late', function late(req, res) {
  res.send('early');
  setTimeout(function later() {
    fs.stat(__dirname, function back(err, st) {
      const carried = [req, res];
      if (err || carried.length !== 2) throw new Error('lost the request');
    });
  }, 5);
});

app.get('/ping', function ping(req, res) { res.send('pong'); });

app.listen(Number(process.env.PORT), '127.0.0.1', function () { console.log('listening'); });
