/**
 * Who may use the dashboard, and the CSRF token that every state-changing request carries.
 *
 * CSRF: a random nonce lives in an HttpOnly, SameSite=Strict cookie; the token is
 * HMAC-SHA256(secret, nonce), embedded in the pages and handed out by GET api/csrf. A request
 * that changes something must send the token (X-CSRF-Token header or `_csrf` form field)
 * matching its own cookie. Another site can neither read the token nor forge the pair.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export const CSRF_COOKIE = 'taskstore_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

/** True for 127.0.0.0/8 and ::1, also in their IPv4-mapped IPv6 forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return plain === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}

/**
 * A request straight from this machine: a loopback peer and no proxy headers (a reverse
 * proxy on the same host would otherwise make every visitor look local).
 */
export function isDirectLoopbackRequest(req: IncomingMessage): boolean {
  const headers = req.headers;
  if (headers['x-forwarded-for'] !== undefined || headers['forwarded'] !== undefined || headers['x-real-ip'] !== undefined) return false;
  return isLoopbackAddress(req.socket?.remoteAddress);
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    const name = part.slice(0, at).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(at + 1).trim());
  }
  return cookies;
}

export class CsrfProtection {
  readonly #secret: Buffer;
  readonly #cookiePath: string;

  constructor(secret: string | Buffer | undefined, cookiePath: string) {
    this.#secret = secret === undefined ? randomBytes(32) : Buffer.from(secret);
    this.#cookiePath = cookiePath;
  }

  /** The request's nonce, or a new one with the Set-Cookie header that stores it. */
  nonceFor(req: IncomingMessage): { nonce: string; setCookie?: string } {
    const existing = parseCookies(req.headers.cookie).get(CSRF_COOKIE);
    if (existing && /^[A-Za-z0-9_-]{22,64}$/.test(existing)) return { nonce: existing };
    const nonce = randomBytes(18).toString('base64url');
    const secure = (req.socket as TLSSocket | undefined)?.encrypted === true ? '; Secure' : '';
    return { nonce, setCookie: `${CSRF_COOKIE}=${nonce}; Path=${this.#cookiePath}; HttpOnly; SameSite=Strict${secure}` };
  }

  tokenFor(nonce: string): string {
    return createHmac('sha256', this.#secret).update(nonce).digest('base64url');
  }

  /** True when `token` belongs to the request's cookie. */
  verify(req: IncomingMessage, token: unknown): boolean {
    const nonce = parseCookies(req.headers.cookie).get(CSRF_COOKIE);
    if (!nonce || typeof token !== 'string' || token === '') return false;
    const expected = Buffer.from(this.tokenFor(nonce));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
