// The paper's Figure 5 (states): a → scope of add, b → stream onReq→add, c → share (add, end).
var app = require('express')(), fs = require('fs'), path = require('path');
var a = 0, c = 0;
var dir = process.env.FLX_STATES_DIR || require('os').tmpdir();

app.get('/', function onReq(req, res) {
  var b = Number(req.query.count || 1);
  fs.readFile(path.join(__dirname, 'fixtures', 'in.txt'), function add(e, v) {
    a += b + c + v.length;
    fs.writeFile(path.join(dir, 'flx-states-out-' + process.pid + '.txt'), String(a), function end(err) {
      c = c + 1;
      res.send('a=' + a + ' c=' + c + '\n');
    });
  });
});

app.get('/ping', function ping(req, res) {
  res.send('pong');
});

app.listen(Number(process.env.PORT), '127.0.0.1', function () { console.log('listening'); });
