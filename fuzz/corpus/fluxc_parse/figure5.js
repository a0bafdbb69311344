var app = require('express')(), fs = require('fs');
var a = 0, c = 0;
app.get('/', function onReq(req, res) {
  var b = req.count;
  fs.readFile('in.txt', function add(e, v) {
    a += b + c + v;
    fs.writeFile('out.txt', a, function end(updt) {
      c = updt;
    });
  });
});
