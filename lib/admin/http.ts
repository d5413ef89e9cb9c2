/** Small request and response helpers of the dashboard over plain node:http. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TaskStoreError } from '../foundation/errors.js';

/** An HTTP error with a status and a message safe to show. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'HTTP_ERROR',
    /** Extra response headers, such as `Connection: close` after a body was cut short. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The largest request body the dashboard reads. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The rest of the body is not read: the answer closes the connection. */
const CLOSE = Object.freeze({ Connection: 'close' });

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Cache-Control': 'no-store',
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), headers);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  send(res, 303, 'text/plain; charset=utf-8', `See ${location}`, { Location: location, ...headers });
}

/** Status, code and extra headers for an error: TaskStoreError codes map to 400/404/409/500. */
export function describeError(error: unknown): { status: number; code: string; message: string; headers: Record<string, string> } {
  if (error instanceof HttpError) return { status: error.status, code: error.code, message: error.message, headers: { ...error.headers } };
  if (error instanceof TaskStoreError) {
    const status = { INVALID_ARGUMENT: 400, NOT_FOUND: 404, ALREADY_EXISTS: 409, INVALID_STATE: 409, DATABASE: 500 }[error.code];
    // A driver's message may carry SQL and connection details: not for the page.
    const message = error.code === 'DATABASE' ? 'database error (see the server log)' : error.message;
    return { status, code: error.code, message, headers: {} };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error (see the server log)', headers: {} };
}

/**
 * The request body as fields: a body parsed by a framework (req.body) is used as it is.
 * Otherwise at most MAX_BODY_BYTES are read, within `timeoutMs`; past either limit the
 * reading stops and the error's answer (413, 408) closes the connection.
 */
export async function readBody(req: IncomingMessage, timeoutMs: number): Promise<Record<string, unknown>> {
  const contentType =
    String(req.headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim()
      .toLowerCase() ?? '';
  const preParsed = (req as IncomingMessage & { body?: unknown }).body;
  let text: string;
  if (preParsed !== undefined && (req.readableEnded || req.complete)) {
    if (preParsed !== null && typeof preParsed === 'object' && !Buffer.isBuffer(preParsed)) return preParsed as Record<string, unknown>;
    text = Buffer.isBuffer(preParsed) ? preParsed.toString('utf8') : String(preParsed ?? '');
  } else {
    text = await readText(req, timeoutMs);
  }
  if (text.trim() === '') return {};
  if (contentType === 'application/json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'the request body is not valid JSON', 'INVALID_ARGUMENT');
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new HttpError(400, 'the request body must be a JSON object', 'INVALID_ARGUMENT');
    return value as Record<string, unknown>;
  }
  if (contentType === 'application/x-www-form-urlencoded' || contentType === '') {
    return Object.fromEntries(new URLSearchParams(text));
  }
  throw new HttpError(415, `unsupported content type '${contentType}' (send application/json or a form)`, 'UNSUPPORTED_MEDIA_TYPE');
}

function tooLarge(): HttpError {
  return new HttpError(413, 'the request body is larger than 1 MiB', 'PAYLOAD_TOO_LARGE', CLOSE);
}

function readText(req: IncomingMessage, timeoutMs: number): Promise<string> {
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error: HttpError | null) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (!error) return resolve(Buffer.concat(chunks).toString('utf8'));
      // Stop reading; the answer goes out with Connection: close, and node then closes the socket.
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return settle(tooLarge());
      chunks.push(chunk);
    };
    const onEnd = () => settle(null);
    const onError = () => settle(new HttpError(400, 'the request body was cut short', 'ABORTED', CLOSE));
    const onClose = () => {
      if (!req.complete) onError();
    };
    const timer = setTimeout(
      () => settle(new HttpError(408, `the request body did not arrive within ${timeoutMs} ms`, 'REQUEST_TIMEOUT', CLOSE)),
      timeoutMs,
    );
    timer.unref();
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}
