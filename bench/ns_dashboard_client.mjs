// A dashboard stand-in for the churn benchmark: holds the name server's events WebSocket open
// and reads everything it sends (snapshot, deltas, stats), like a browser tab would, until
// SIGTERM; then prints `frames=N deltas=N stats=N`.
//   node bench/ns_dashboard_client.mjs ws://127.0.0.1:5380/api/v1/events
import { wsConnect } from '../tests/lib/chiron.mjs';

const url = process.argv[2];
if (!url) { console.error('usage: ns_dashboard_client.mjs WS_URL'); process.exit(2); }
const ws = await wsConnect(url);
if (ws.status !== 101) { console.error(`events handshake answered ${ws.status}`); process.exit(1); }
const counts = { frames: 0, deltas: 0, stats: 0 };
let stop = false;
process.on('SIGTERM', () => { stop = true; });
while (!stop) {
  let m;
  try { m = await ws.next(500); } catch { continue; }
  counts.frames++;
  if (m.type === 'delta') counts.deltas++;
  if (m.type === 'stats') counts.stats++;
}
ws.close();
console.log(`frames=${counts.frames} deltas=${counts.deltas} stats=${counts.stats}`);
