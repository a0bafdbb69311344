// research §6.11: a module variable written upstream (h) and read downstream (r) → stream.
var app = require('express')(),
    fs = require('fs'),
    last = '';

app.get('/', function h(req, res) {
  last = req.url;
  fs.stat('.', function r(e, s) {
    res.send(last);
  });
});

app.listen(8080);
