import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { ERROR_MESSAGES, type ErrorCode } from '../core/errors';
import { describeIssues, type ErrorBody } from '../core/feedback';

/** An expected refusal: its status, code and message reach the client as they are. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    readonly detail?: string,
  ) {
    super(ERROR_MESSAGES[code]);
    this.name = 'HttpError';
  }
}

interface KnownError {
  status: number;
  code: ErrorCode;
  detail?: string;
}

const INVALID_JSON: KnownError = {
  status: 400,
  code: 'VALIDATION_FAILED',
  detail: 'body is not valid JSON',
};

/** Fastify's own client errors, in the project's vocabulary. */
const FASTIFY_CODES: Record<string, KnownError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'VALIDATION_FAILED' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'VALIDATION_FAILED', detail: 'empty body' },
  FST_ERR_CTP_INVALID_JSON_BODY: INVALID_JSON,
};

export interface ErrorReply {
  status: number;
  body: ErrorBody;
}

/** 4xx explain themselves; 5xx details stay in the log. */
export function errorReply(error: {
  statusCode?: number;
  code?: string;
  message: string;
  detail?: string;
  name?: string;
}): ErrorReply {
  if (error instanceof HttpError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.detail !== undefined) body.error.detail = error.detail;
    return { status: error.statusCode, body };
  }
  // JSON.parse failures (and the prototype-poisoning guard) arrive as a 400 SyntaxError.
  const badJson = error.statusCode === 400 && error.name === 'SyntaxError';
  const known =
    (error.code === undefined ? undefined : FASTIFY_CODES[error.code]) ??
    (badJson ? INVALID_JSON : undefined);
  if (known) {
    const { status, code, detail } = known;
    const body: ErrorBody = { error: { code, message: ERROR_MESSAGES[code] } };
    if (detail !== undefined) body.error.detail = detail;
    return { status, body };
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return {
      status,
      body: { error: { code: error.code ?? 'BAD_REQUEST', message: error.message } },
    };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'Internal error' } } };
}

/** Route schemas are zod schemas: they validate (and normalise) what comes in ... */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data) => {
    const parsed = schema.safeParse(data);
    if (parsed.success) return { value: parsed.data };
    return { error: new HttpError(400, 'VALIDATION_FAILED', describeIssues(parsed.error)) };
  };

/** ... and what goes out: a reply that does not fit its schema is a bug, hence a 500. */
export const zodSerializerCompiler =
  ({ schema }: { schema: unknown }) =>
  (data: unknown): string =>
    JSON.stringify((schema as z.ZodType).parse(data));
