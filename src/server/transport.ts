import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyHttpOptions } from 'fastify';
import type { ErrorCode } from '../core/errors';
import type { TimeoutConfig } from './config';
import { errorBodyText } from './http-errors';
import { SECURITY_HEADERS } from './model-http';

/**
 * How long a connection may take over each part of a request. Node only looks for
 * expired headers and requests on a timer (every 30 s by default, which would stretch a
 * 10 s bound to 40 s); checking a few times per bound keeps the bound honest.
 */
export function transportOptions(
  timeouts: TimeoutConfig,
): Pick<
  FastifyHttpOptions<Server>,
  'connectionTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'http' | 'clientErrorHandler'
> {
  const checkEveryMs = Math.max(
    10,
    Math.min(1_000, Math.floor(Math.min(timeouts.headersMs, timeouts.requestMs) / 4)),
  );
  return {
    // A socket silent for this long is destroyed, mid-request or not.
    connectionTimeout: timeouts.idleMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    http: {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: checkEveryMs,
    },
    clientErrorHandler: answerClientError,
  };
}

/** Errors Node raises before a request reaches Fastify, answered in the project's words. */
const CLIENT_ERRORS: Record<string, { status: number; reason: string; code: ErrorCode }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', code: 'REQUEST_TIMEOUT' },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    code: 'BAD_REQUEST',
  },
};
const OTHER_CLIENT_ERROR = { status: 400, reason: 'Bad Request', code: 'BAD_REQUEST' } as const;

/**
 * Fastify's default handler, with the project's error body and headers: it never quotes
 * the request, and it closes the connection, whose parser state is now unknown.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, reason, code } = CLIENT_ERRORS[error.code ?? ''] ?? OTHER_CLIENT_ERROR;
  if (socket.writable) {
    const body = errorBodyText(code);
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      connection: 'close',
      ...SECURITY_HEADERS,
    };
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`HTTP/1.1 ${status} ${reason}\r\n${head.join('')}\r\n${body}`);
  }
  socket.destroy();
}
