var app = require('express')(),
    fs = require('fs'),
    count = 0;

app.get('/', function handler(req, res){
    fs.readFile(__filename, function reply(err, data) {
        count += 1;
        res.send(err || template(count, data));
    });
});

app.listen(8080);
