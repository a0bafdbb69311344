// count5: one counter written by two routes → share (grp__rep).
var app = require('express')();
var _rep = 42;

app.get('/A', function replyA(req, res) {
  _rep += 1;
  res.send('' + _rep);
});

app.get('/B', function replyB(req, res) {
  _rep += 1;
  res.send('' + _rep);
});

app.listen(8080);
