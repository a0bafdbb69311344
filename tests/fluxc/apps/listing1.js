// The paper's Listing 1 (flx-paper model.tex), with `template` defined and a port from the
// environment: reads this file and answers with a request counter.
var app = require('express')(), fs = require('fs'), count = 0;

function template(n, data) {
  return 'request ' + n + ': ' + data.length + ' bytes\n' + data.toString('utf8', 0, 40) + '\n';
}

app.get('/', function handler(req, res) {
  fs.readFile(__filename, function reply(err, data) {
    count += 1;
    res.send(err || template(count, data));
  });
});

app.get('/ping', function ping(req, res) {
  res.send('pong');
});

app.listen(Number(process.env.PORT), '127.0.0.1', function () { console.log('listening'); });
