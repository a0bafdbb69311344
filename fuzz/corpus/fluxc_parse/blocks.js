let a = 1;
{
  use(a, b);
  let a = 2;
  const b = a;
  {
    class K { m() { return K; } }
    a = new K();
  }
  K;
}
a++;
--a;
switch (a) {
  case 1:
    let s = 1;
    s += a;
    break;
  default:
    s;
}
s;
