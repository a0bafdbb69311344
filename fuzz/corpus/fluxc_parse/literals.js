var s = `a${b`c${d}`}`, r = /[/]\//g;
