try { risky(); } catch (e) { var e = 2; log(e); } finally { done(); }
try { risky(); } catch ({ message, code = 500 }) { log(message, code); }
try { risky(); } catch { recover(); }
try { risky(); } catch ([first, ...more]) { first; more; }
e;
