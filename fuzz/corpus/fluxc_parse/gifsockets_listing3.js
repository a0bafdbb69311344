#!/usr/bin/env node
var express = require('express');
var getRawBody = require('raw-body');
var app = express();

app.post('/image/text', function (req, res, next) {
  getRawBody(req, {
    length: req.headers['content-length'],
    limit: '1mb',
    encoding: 'utf8'
  }, function (err, string) {
    if (err) { return next(err); }
    req.text = string;
    next();
  });
}, function (req, res) {
  res.send(req.text.length);
});
module.exports = app;
