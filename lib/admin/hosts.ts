/**
 * Which host names the dashboard answers to, and whether a state-changing request comes from
 * one of its own pages.
 *
 * Host: a page on another site can point its own name at 127.0.0.1 (DNS rebinding) and then
 * talk to a loopback dashboard as a same-origin page. The browser still sends that name in
 * `Host`, so the dashboard answers only to loopback names and addresses and the names in
 * `allowedHosts`. Names under `.localhost` are safe: browsers resolve them to loopback
 * themselves, no DNS involved.
 *
 * Origin: a write must not come from another origin's page. When the browser says where it
 * comes from (`Origin`, `Sec-Fetch-Site`), that must be the dashboard itself; clients that
 * send neither (curl, scripts) rely on the CSRF token alone.
 */
import { isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { invalidArgument } from '../foundation/errors.js';

/** `true`: any Host (a proxy in front checks it); else the names served besides loopback. */
export type AllowedHosts = true | readonly string[];

export interface ParsedHost {
  /** Lower case, punycode, IPv6 in brackets, no trailing dot. */
  readonly hostname: string;
  /** '' when the Host header names none. */
  readonly port: string;
}

/** What a Host header or an allowedHosts entry may hold: a name or address and a port. */
const HOST_SYNTAX = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$/;

function canonical(host: string): ParsedHost | null {
  let url: URL;
  try {
    url = new URL(`http://${host}/`);
  } catch {
    return null;
  }
  const hostname = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname;
  if (hostname === '' || url.username !== '' || url.password !== '' || url.pathname !== '/') return null;
  return { hostname, port: url.port };
}

/** The Host a request was sent to (HTTP/2: `:authority`), or null when absent or malformed. */
export function requestHost(req: IncomingMessage): ParsedHost | null {
  const header = req.headers.host ?? req.headers[':authority'];
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string' || !HOST_SYNTAX.test(value)) return null;
  return canonical(value);
}

/** localhost, *.localhost, 127.0.0.0/8 and [::1] (also as an IPv4-mapped address). */
export function isLoopbackHostname(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) ||
    hostname === '[::1]' ||
    /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(hostname)
  );
}

/**
 * An allowedHosts entry in canonical form: a host name or an IP address, no port; a leading
 * dot ('.example.com') also matches every name under it. Null when it is none of these.
 */
export function normalizeHostEntry(entry: string): string | null {
  const subdomains = entry.startsWith('.');
  const name = subdomains ? entry.slice(1) : entry;
  if (name === '' || /[/@?#\\\s%]/.test(name)) return null;
  const withBrackets = isIPv6(name) ? `[${name}]` : name;
  if (!withBrackets.startsWith('[') && withBrackets.includes(':')) return null; // a port, or not an address
  const parsed = canonical(withBrackets);
  if (!parsed || parsed.port !== '' || (subdomains && parsed.hostname.startsWith('['))) return null;
  return subdomains ? `.${parsed.hostname}` : parsed.hostname;
}

/** allowedHosts as given to createAdminHandler, checked and in canonical form. */
export function resolveAllowedHosts(value: unknown, name: string): AllowedHosts {
  if (value === true) return true;
  if (!Array.isArray(value))
    throw invalidArgument(
      `${name} must be an array of host names, or true to accept any Host (got ${JSON.stringify(value) ?? typeof value})`,
    );
  const hosts = (value as unknown[]).map((entry) => {
    if (entry === '*') throw invalidArgument(`${name}: '*' is not a host name; pass allowedHosts: true to accept any Host`);
    const normalized = typeof entry === 'string' ? normalizeHostEntry(entry) : null;
    if (normalized === null)
      throw invalidArgument(
        `${name} entries must be host names or IP addresses without a port, like 'tasks.example.com', '.example.com' or '10.0.0.5' (got ${JSON.stringify(entry) ?? typeof entry})`,
      );
    return normalized;
  });
  return Object.freeze([...new Set(hosts)]);
}

function listed(hostname: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => (entry.startsWith('.') ? hostname === entry.slice(1) || hostname.endsWith(entry) : hostname === entry));
}

/** True when the dashboard answers to this Host: loopback, listed, or any with `true`. */
export function isAllowedHost(host: ParsedHost | null, allowed: AllowedHosts): boolean {
  if (allowed === true) return true;
  if (!host) return false;
  return isLoopbackHostname(host.hostname) || listed(host.hostname, allowed);
}

const SAME_ORIGIN_FETCH_SITES = new Set(['same-origin', 'none']);

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Why a state-changing request does not come from the dashboard's own pages, or null when it
 * may: `Sec-Fetch-Site`, when sent, must be same-origin (or none: the user typed it);
 * `Origin`, when sent, must be the request's own host and port, or a name in allowedHosts.
 */
export function crossOriginReason(req: IncomingMessage, host: ParsedHost | null, allowed: AllowedHosts): string | null {
  const site = single(req.headers['sec-fetch-site'])?.toLowerCase();
  if (site !== undefined && !SAME_ORIGIN_FETCH_SITES.has(site))
    return `Sec-Fetch-Site is ${site === 'same-site' ? 'same-site' : 'cross-site'}`;
  const origin = single(req.headers.origin);
  if (origin === undefined) return null;
  if (origin === 'null') return 'Origin is null (an opaque origin)';
  let from: URL;
  try {
    from = new URL(origin);
  } catch {
    return 'the Origin header is malformed';
  }
  if (from.protocol !== 'http:' && from.protocol !== 'https:') return 'the Origin is not an http or https page';
  const hostname = from.hostname.endsWith('.') ? from.hostname.slice(0, -1) : from.hostname;
  const defaultPort = from.protocol === 'https:' ? '443' : '80';
  if (host && hostname === host.hostname && (from.port || defaultPort) === (host.port || defaultPort)) return null;
  if (allowed !== true && listed(hostname, allowed)) return null;
  return `the Origin ${from.origin} is not this dashboard`;
}
