// Minimal JWT minting with node:crypto, for tokens the server must accept or refuse.
import { createHmac, generateKeyPairSync, sign as cryptoSign, randomBytes } from 'node:crypto';

export const b64url = (input) =>
  Buffer.from(typeof input === 'string' || Buffer.isBuffer(input) ? input : JSON.stringify(input)).toString('base64url');

export const nowSec = () => Math.floor(Date.now() / 1000);

/** A fresh 24-hex ObjectId-shaped id (never issued by the server). */
export const randomId = () => randomBytes(12).toString('hex');

function withTimes(payload) {
  const p = { iat: nowSec(), exp: nowSec() + 3600, ...payload };
  for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
  return p;
}

/** HS256 token; `header` overrides header fields. */
export function signHS256(payload, secret, header = {}) {
  const h = b64url({ alg: 'HS256', typ: 'JWT', ...header });
  const p = b64url(withTimes(payload));
  const sig = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url');
  return `${h}.${p}.${sig}`;
}

/** `alg: none` token with an empty signature. */
export function signNone(payload) {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(withTimes(payload))}.`;
}

/** Generates a key pair for 'RS256' | 'ES256' | 'EdDSA'; returns { alg, privateKey, publicPem }. */
export function keyPair(alg) {
  let kp;
  if (alg === 'RS256') kp = generateKeyPairSync('rsa', { modulusLength: 2048 });
  else if (alg === 'ES256') kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  else if (alg === 'EdDSA') kp = generateKeyPairSync('ed25519');
  else throw new Error(`unknown alg ${alg}`);
  return { alg, privateKey: kp.privateKey, publicPem: kp.publicKey.export({ type: 'spki', format: 'pem' }) };
}

/** Asymmetric token signed with `key` (a keyPair()). */
export function signAsym(payload, key, header = {}) {
  const h = b64url({ alg: key.alg, typ: 'JWT', ...header });
  const p = b64url(withTimes(payload));
  const data = Buffer.from(`${h}.${p}`);
  let sig;
  if (key.alg === 'RS256') sig = cryptoSign('sha256', data, key.privateKey);
  else if (key.alg === 'ES256') sig = cryptoSign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  else sig = cryptoSign(null, data, key.privateKey);
  return `${h}.${p}.${sig.toString('base64url')}`;
}

export function decode(token) {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
  };
}

export function verifyHS256(token, secret) {
  const [h, p, s] = token.split('.');
  return createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url') === s;
}
