// One strict check of PROTOCOL.md "Notifications" not covered by social-notifications:
// "Recipients who were connected get the event itself (message:new, …) and no
// notification" — also when their tab closes soon after the live delivery. The one
// exception is physical: a message written to a socket less than 1 s (the server's
// in-flight window, server/deliveries.go) before its last socket closed may have been lost
// in flight, so the server covers it with a notification; this test closes after that.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { newUsers, waitOffline } from '../lib/fixtures.js';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await stopServer(srv); });

test('a message delivered live is not counted in a notification when the tab closes after the in-flight window', { timeout: 30_000 }, async () => {
  const [a, b] = await newUsers(srv, 2);
  const a1 = await a.connect();
  const b1 = await b.connect();
  const w0 = b1.next('chat:new');
  const chat = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
  await w0;
  const w = b1.next('message:new', (p) => p?.message?.text === 'seen live');
  await a1.ok('message:new', { chatId: chat.id, text: 'seen live' });
  await w; // delivered to b's connected socket
  // Past the in-flight window (1 s) the server knows the packet was taken; a bounded,
  // deliberate wait, since the rule itself is about time.
  await new Promise((r) => setTimeout(r, 1200));
  b1.close();
  await waitOffline(a1, b.id, 15);
  const away = (await a1.ok('message:new', { chatId: chat.id, text: 'sent while away' })).message;
  const b2 = await b.connect();
  const notes = (await b2.ok('notification:list', {})).notifications.filter((n) => n.type === 'message');
  assert.equal(notes.length, 1, JSON.stringify(notes));
  assert.equal(notes[0].data.lastMessageId, away.id);
  assert.equal(notes[0].data.count, 1,
    `only "sent while away" reached b without a socket; "seen live" was delivered live: ${JSON.stringify(notes[0].data)}`);
});
