// Every continuation runs on a pool worker and prints a line; the program then exits on its
// own: none of the lines may be lost.
var fs = require('fs');
fs.readFile(__filename, function main(err, data) { console.log('A'); });
fs.readFile(__filename, function handler(err, data) { console.log('B'); });
fs.readFile(__filename, function handler(err, data) { console.log('C'); });
fs.readFile(__filename, function anonymous_1000(err, data) { console.log('D'); });
fs.readFile(__filename, function (err, data) { console.log('E'); });
fs.readFile(__filename, function toString(err, data) { console.log('F'); });
fs.readFile(__filename, function __proto__(err, data) { console.error('G'); });
fs.readFile(__filename, function constructor(err, data) { console.log('H'); });
