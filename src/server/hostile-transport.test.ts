import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testModel, makeRecord, testRegistry } from '../../test-support/feedback';
import { buildApp } from './app';
import type { TimeoutConfig } from './config';
import type { FeedbackStore } from './feedback-store';
import { folderSource } from './model-source';
import { openSqliteStore } from './sqlite-store';

/**
 * What a hostile or broken client does to the connection rather than to the JSON: a body
 * that stalls or trickles, headers that never end, a socket gone before the server looks
 * at it, a compressed body. Each gets a 4xx with a code, or the connection closed; none
 * leaves a record behind or logs a 5xx. These run on a real port, with raw sockets.
 */

/** Small bounds, so that the server gives up while the test waits for it to. */
const SHORT: TimeoutConfig = { headersMs: 300, requestMs: 600, idleMs: 10_000, keepAliveMs: 5_000 };

interface Server {
  app: FastifyInstance;
  store: FeedbackStore;
  port: number;
  /** Every log line so far, parsed. */
  logs(): LogLine[];
  /** Resolves at the first log line (from now on) that matches. */
  logged(matches: (line: LogLine) => boolean): Promise<void>;
}

interface LogLine {
  level: number;
  res?: { statusCode?: number };
  msg?: string;
}

/** What a server must never log for a client's doing. */
const isFailure = (line: LogLine) => line.level >= 50 || (line.res?.statusCode ?? 0) >= 500;

let open: Server[] = [];
afterEach(async () => {
  await Promise.all(open.map(({ app }) => app.close()));
  await Promise.all(open.map(({ store }) => store.close()));
  open = [];
});

let body: Buffer;
beforeAll(async () => {
  const model = await testModel();
  body = Buffer.from(JSON.stringify({ records: [makeRecord(model)] }));
});

async function startServer(
  timeouts: TimeoutConfig,
  prepare: (app: FastifyInstance) => void = () => {},
): Promise<Server> {
  const lines: LogLine[] = [];
  const watchers = new Set<(line: LogLine) => void>();
  const write = (text: string) => {
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    watchers.forEach((watch) => watch(line));
  };
  const store = openSqliteStore(':memory:');
  const app = buildApp(
    { distDir: '/nonexistent', logLevel: 'info', timeouts },
    { models: folderSource(await testRegistry()), store, logStream: { write } },
  );
  prepare(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('not listening');
  const server = {
    app,
    store,
    port: address.port,
    logs: () => lines,
    logged: (matches: (line: LogLine) => boolean) =>
      new Promise<void>((resolve) => {
        const watch = (line: LogLine) => {
          if (!matches(line)) return;
          watchers.delete(watch);
          resolve();
        };
        watchers.add(watch);
      }),
  };
  open.push(server);
  return server;
}

function head(headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return ['POST /api/v1/feedback HTTP/1.1', 'Host: localhost', ...lines, '', ''].join('\r\n');
}

/** A raw connection that records all it receives until the server closes it. */
async function rawConnection(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', () => {}); // a reset is one of the outcomes under test
  const closed = once(socket, 'close').then(() => received);
  return { socket, closed };
}

async function expectNothingStoredNo5xx(server: Server): Promise<void> {
  expect(await server.store.count()).toBe(0);
  expect(server.logs().filter(isFailure)).toEqual([]);
}

function expectErrorAnswer(received: string, status: number, code: string): void {
  expect(received).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  const json = received.slice(received.indexOf('\r\n\r\n') + 4);
  expect(JSON.parse(json)).toMatchObject({ error: { code } });
}

describe('transport-level hostile requests', () => {
  it('answers 408 and closes a connection whose body stalls', async () => {
    const server = await startServer(SHORT);
    const { socket, closed } = await rawConnection(server.port);
    // 20 such sockets sending 4 MiB of 5 MiB held that memory for as long as they liked.
    socket.write(head({ 'content-type': 'application/json', 'content-length': 1 << 20 }));
    socket.write(Buffer.alloc(1 << 19, 0x20));
    expectErrorAnswer(await closed, 408, 'REQUEST_TIMEOUT');
    await expectNothingStoredNo5xx(server);
  });

  it('closes a connection that goes silent mid-body, even before the request bound', async () => {
    const server = await startServer({ ...SHORT, requestMs: 60_000, idleMs: 300 });
    const { socket, closed } = await rawConnection(server.port);
    socket.write(head({ 'content-type': 'application/json', 'content-length': body.length }));
    socket.write(body.subarray(0, 10));
    const received = await closed;
    // Destroyed for silence: nothing to say, or a 4xx if the app had begun to answer.
    if (received !== '') expect(received).toMatch(/^HTTP\/1\.1 4\d\d /);
    await expectNothingStoredNo5xx(server);
  });

  it('answers 408 to a body that trickles in too slowly to finish in time', async () => {
    const server = await startServer(SHORT);
    const { socket, closed } = await rawConnection(server.port);
    socket.write(head({ 'content-type': 'application/json', 'content-length': body.length }));
    // One byte at a time: never silent for long, never done.
    let sent = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed && sent < body.length - 1) socket.write(body.subarray(sent, ++sent));
    }, 20);
    try {
      expectErrorAnswer(await closed, 408, 'REQUEST_TIMEOUT');
    } finally {
      clearInterval(trickle);
    }
    await expectNothingStoredNo5xx(server);
  });

  it('answers 408 to headers that never end', async () => {
    const server = await startServer(SHORT);
    const { socket, closed } = await rawConnection(server.port);
    socket.write('POST /api/v1/feedback HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    expectErrorAnswer(await closed, 408, 'REQUEST_TIMEOUT');
    await expectNothingStoredNo5xx(server);
  });

  it('refuses a compressed body with 415 before reading it', async () => {
    const server = await startServer(SHORT);
    const { socket, closed } = await rawConnection(server.port);
    // The body never comes: the answer cannot have waited for it.
    socket.write(
      head({
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': 1 << 20,
      }),
    );
    const received = await Promise.race([
      closed,
      once(socket, 'data').then(([chunk]) => String(chunk)),
    ]);
    socket.destroy();
    expectErrorAnswer(received, 415, 'UNSUPPORTED_CONTENT_ENCODING');
    expect(received.toLowerCase()).toContain('accept-encoding: identity');
    await expectNothingStoredNo5xx(server);
  });

  it.each(['gzip', 'br', 'deflate', 'x-unknown', 'identity, gzip', 'GZIP'])(
    'refuses Content-Encoding: %s with 415 UNSUPPORTED_CONTENT_ENCODING',
    async (encoding) => {
      const server = await startServer(SHORT);
      const res = await server.app.inject({
        method: 'POST',
        url: '/api/v1/feedback',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        payload: body,
      });
      expect(res.statusCode).toBe(415);
      expect(res.json().error.code).toBe('UNSUPPORTED_CONTENT_ENCODING');
      expect(res.headers['accept-encoding']).toBe('identity');
      await expectNothingStoredNo5xx(server);
    },
  );

  it('takes Content-Encoding: identity, which is no encoding', async () => {
    const server = await startServer(SHORT);
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/v1/feedback',
      headers: { 'content-type': 'application/json', 'content-encoding': 'identity' },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    expect(await server.store.count()).toBe(1);
  });

  it('logs no 5xx for a request whose socket is gone before the rate limiter sees it', async () => {
    let addressSeen: string | undefined = 'not looked at';
    let limiterPassed = () => {};
    const pastLimiter = new Promise<void>((resolve) => (limiterPassed = resolve));
    const server = await startServer(SHORT, (app) => {
      // Runs before the route's own onRequest hooks, the limiter's among them: the client
      // hangs up between sending the request and the server looking at it.
      app.addHook('onRequest', async (request) => {
        const socketClosed = once(request.raw.socket, 'close');
        request.raw.socket.destroy();
        await socketClosed;
        addressSeen = request.ip;
      });
      // The first hook after every onRequest one: the limiter has had its say.
      app.addHook('preParsing', async (_request, _reply, payload) => {
        limiterPassed();
        return payload;
      });
    });
    const { socket, closed } = await rawConnection(server.port);
    const failed = server.logged(isFailure);
    socket.write(head({ 'content-type': 'application/json', 'content-length': body.length }));
    socket.write(body);
    expect(await closed).toBe('');
    await Promise.race([pastLimiter, failed]);
    expect(addressSeen).toBeUndefined(); // what the limiter's key function is given
    await expectNothingStoredNo5xx(server);
  });
});
