var mode = process.argv[2];
switch (mode) {
  case 'a': {
    let inner = 1;
    inner;
  }
  case 'b':
    let shared = mode;
    function inSwitch() { return shared; }
  // falls through
  case shared:
    inSwitch();
    break;
  default:
    const last = shared;
    last;
}
outer: for (let i = 0; i < 2; i++) {
  inner: for (const j of [i]) {
    if (j) continue outer;
    else break inner;
  }
}
block: { break block; }
if (mode) function annexB() { return mode; }
annexB;
