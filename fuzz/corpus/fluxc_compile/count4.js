// count4: an outer counter written by one handler only → scope.
var app = require('express')();
var _rep = 42;

app.get('/', function reply(req, res) {
  _rep += 1;
  res.send('' + _rep);
});

app.listen(8080);
