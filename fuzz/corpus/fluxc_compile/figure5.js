// The paper's Figure 5 (states): a → scope, b → stream, c → share.
var app = require('express')(),
    fs = require('fs'),
    a = 0,
    c = 0;

app.get('/', function onReq(req, res) {
  var b = req.count;
  fs.readFile('in.txt', function add(e, v) {
    a += b + c + v;
    fs.writeFile('out.txt', a, function end(updt) {
      c = updt;
    });
  });
});

app.listen(8080);
