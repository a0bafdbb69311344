// The paper's chat (chiron-stream-the-coding, §4 "Live Chat") as a Node.js Socket.IO 4 server: the
// baseline peer for bench/chat_vs_socketio.sh and tests/integration/chat_peer.test.mjs.
// `new user` (payload: room name) joins the room without notifying anyone; `new message` (payload
// object with `room`) is broadcast to every socket of the room, the sender included, then discarded.
//   node bench/peers/socketio_chat.js [PORT]     (or env PORT; 0 = any free port)
// Prints "listening chat=127.0.0.1:PORT" once accepting. 127.0.0.1 only.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer();
const io = new Server(http, { transports: ['websocket', 'polling'], serveClient: false });
io.on('connection', (socket) => {
  // The ack is an addition for load generators (confirms the join); the paper's clients send none.
  socket.on('new user', (room, ack) => {
    if (typeof room === 'string') socket.join(room);
    if (typeof ack === 'function') ack();
  });
  socket.on('new message', (msg) => {
    if (msg && typeof msg.room === 'string') io.to(msg.room).emit('new message', msg);
  });
});
http.listen(Number(process.argv[2] ?? process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening chat=127.0.0.1:${http.address().port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { io.close(); process.exit(0); });
