// count3 (flx-compiler examples): an outer constant read by the handler → scope.
var app = require('express')();
var _rep = '42';

app.get('/', function reply(req, res) {
  res.send(_rep);
});

app.listen(8080);
