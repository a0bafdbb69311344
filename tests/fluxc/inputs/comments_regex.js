// a comment with code: var fake = 1;
/* block
   comment var fake2 */
var url = 'http://example.com/a//b'; // trailing
var re = /\/\/.*$/gm, re2 = /[/*]+/;
var div = url.length / 2 / 1;
var tpl = `// not a comment ${url /* inner comment */} /* nor this */`;
function f(a /* first */, /* second */ b) { return a /* x */ + b; }
var html = 1; <!-- html comment (Annex B)
--> also an html comment
f(re, re2, div, tpl, html);
