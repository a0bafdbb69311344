// Context variables named like Object.prototype members (security review): __proto__ and
// hasOwnProperty are ordinary variables; the continuation runs on a worker.
var fs = require('fs');
var __proto__ = 41;
var hasOwnProperty = 7;
fs.readFile(__filename, function (err, data) {
  __proto__++;
  console.log('__proto__ =', __proto__, 'hasOwnProperty =', hasOwnProperty);
});
