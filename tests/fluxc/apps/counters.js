// Counters: `hits` is shared by two routes (share), `own` belongs to one route (scope).
const express = require('express');
const app = express();
let hits = 0;
let own = 0;

app.get('/a', function routeA(req, res) {
  hits += 1;
  res.type('text/plain').send('a ' + hits + '\n');
});

app.get('/b', function routeB(req, res) {
  hits += 10;
  res.json({ route: 'b', hits: hits });
});

app.get('/own', function routeOwn(req, res) {
  own++;
  res.set('X-Own', String(own)).send('own ' + own);
});

app.get('/ping', function ping(req, res) {
  res.send('pong');
});

app.listen(Number(process.env.PORT), '127.0.0.1', function () { console.log('listening'); });
