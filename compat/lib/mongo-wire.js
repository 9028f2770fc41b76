// The least of a MongoDB client the suite needs to look at what a server stored: one
// OP_MSG command on a fresh connection, with a BSON codec for the types commands and
// their replies use. No dependency; works against MongoDB and FerretDB.
import net from 'node:net';

const OP_MSG = 2013;

// ---- BSON ----

function cstring(s) { return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]); }

function encodeDoc(obj) {
  const parts = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = cstring(k);
    if (typeof v === 'string') {
      const b = Buffer.from(v, 'utf8');
      const len = Buffer.alloc(4); len.writeInt32LE(b.length + 1);
      parts.push(Buffer.from([0x02]), key, len, b, Buffer.from([0]));
    } else if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 31) {
      const b = Buffer.alloc(4); b.writeInt32LE(v);
      parts.push(Buffer.from([0x10]), key, b);
    } else if (typeof v === 'number') {
      const b = Buffer.alloc(8); b.writeDoubleLE(v);
      parts.push(Buffer.from([0x01]), key, b);
    } else if (typeof v === 'boolean') {
      parts.push(Buffer.from([0x08]), key, Buffer.from([v ? 1 : 0]));
    } else if (v === null) {
      parts.push(Buffer.from([0x0a]), key);
    } else if (Array.isArray(v)) {
      parts.push(Buffer.from([0x04]), key, encodeDoc(Object.fromEntries(v.map((x, i) => [String(i), x]))));
    } else if (typeof v === 'object') {
      parts.push(Buffer.from([0x03]), key, encodeDoc(v));
    } else {
      throw new Error(`mongo-wire: cannot encode ${k}: ${typeof v}`);
    }
  }
  const body = Buffer.concat(parts);
  const len = Buffer.alloc(4); len.writeInt32LE(body.length + 5);
  return Buffer.concat([len, body, Buffer.from([0])]);
}

function decodeDoc(buf, off = 0, asArray = false) {
  const end = off + buf.readInt32LE(off);
  const out = asArray ? [] : {};
  let p = off + 4;
  while (p < end - 1) {
    const type = buf[p++];
    const z = buf.indexOf(0, p);
    const key = buf.toString('utf8', p, z);
    p = z + 1;
    let v;
    switch (type) {
      case 0x01: v = buf.readDoubleLE(p); p += 8; break;
      case 0x02: { const n = buf.readInt32LE(p); v = buf.toString('utf8', p + 4, p + 3 + n); p += 4 + n; break; }
      case 0x03: case 0x04: { const n = buf.readInt32LE(p); v = decodeDoc(buf, p, type === 0x04); p += n; break; }
      case 0x05: { const n = buf.readInt32LE(p); v = buf.subarray(p + 5, p + 5 + n); p += 5 + n; break; }
      case 0x07: v = buf.toString('hex', p, p + 12); p += 12; break;
      case 0x08: v = buf[p] === 1; p += 1; break;
      case 0x09: v = new Date(Number(buf.readBigInt64LE(p))); p += 8; break;
      case 0x0a: v = null; break;
      case 0x10: v = buf.readInt32LE(p); p += 4; break;
      case 0x11: v = buf.readBigUInt64LE(p); p += 8; break;
      case 0x12: v = Number(buf.readBigInt64LE(p)); p += 8; break;
      case 0x13: v = buf.subarray(p, p + 16); p += 16; break;
      default: throw new Error(`mongo-wire: BSON type 0x${type.toString(16)} not supported (key ${key})`);
    }
    if (asArray) out.push(v); else out[key] = v;
  }
  return out;
}

// ---- OP_MSG ----

let requestId = 0;

/** Runs one command (an object, first key the command name) against uri's first host. */
export async function command(uri, db, cmd, timeoutMs = 10_000) {
  const m = /^mongodb:\/\/(?:[^@/]*@)?([^,/:]+)(?::(\d+))?/.exec(uri);
  if (!m) throw new Error(`mongo-wire: cannot read a host from ${uri}`);
  const doc = encodeDoc({ ...cmd, $db: db });
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + 4 + 1 + doc.length, 0);
  header.writeInt32LE(++requestId, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(OP_MSG, 12);
  const msg = Buffer.concat([header, Buffer.alloc(4), Buffer.from([0]), doc]);
  const reply = await new Promise((resolve, reject) => {
    const sock = net.connect({ host: m[1], port: Number(m[2] ?? 27017) });
    const chunks = [];
    let got = 0;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`mongo-wire: no answer to ${Object.keys(cmd)[0]} within ${timeoutMs} ms`)); }, timeoutMs);
    sock.on('connect', () => sock.write(msg));
    sock.on('data', (d) => {
      chunks.push(d);
      got += d.length;
      const all = Buffer.concat(chunks);
      if (got >= 4 && got >= all.readInt32LE(0)) {
        clearTimeout(timer);
        sock.end();
        resolve(all);
      }
    });
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
  if (reply.readInt32LE(12) !== OP_MSG || reply[20] !== 0) throw new Error('mongo-wire: unexpected reply');
  const res = decodeDoc(reply, 21);
  if (res.ok !== 1) throw new Error(`mongo-wire: ${Object.keys(cmd)[0]} failed: ${JSON.stringify(res)}`);
  return res;
}

/** Number of documents in a collection. */
export async function count(uri, db, collection) {
  return (await command(uri, db, { count: collection })).n;
}
