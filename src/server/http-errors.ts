import {
  hasZodFastifySchemaValidationErrors,
  type ZodFastifySchemaValidationError,
} from 'fastify-type-provider-zod';
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

export interface ErrorReply {
  status: number;
  body: ErrorBody;
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
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_REQUEST', detail: 'malformed URL' },
  FST_ERR_VALIDATION: { status: 400, code: 'VALIDATION_FAILED' },
};

/** The code of any other client error, by status; the rest are BAD_REQUEST. */
const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  401: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

/**
 * The one translation of an error into a reply. Only our own messages ever reach the
 * client: a framework's or a library's message may quote the URL, a header or the body
 * (Fastify's "'/x%' is not a valid url component"), and a 5xx may quote anything.
 */
export function errorReply(error: {
  statusCode?: number;
  code?: string;
  name?: string;
  validation?: unknown;
  /** Which part of the request failed its schema: `body`, `querystring`, `params`, `headers`. */
  validationContext?: string;
}): ErrorReply {
  if (error instanceof HttpError) return reply(error);
  if (hasZodFastifySchemaValidationErrors(error)) {
    return reply({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      detail: describeValidation(
        error.validation,
        error.validationContext === 'body' ? 'body' : 'query',
      ),
    });
  }
  // JSON.parse failures (and the prototype-poisoning guard) arrive as a 400 SyntaxError.
  const badJson = error.statusCode === 400 && error.name === 'SyntaxError';
  const known =
    (error.code === undefined ? undefined : FASTIFY_CODES[error.code]) ??
    (badJson ? INVALID_JSON : undefined);
  if (known) return reply({ statusCode: known.status, code: known.code, detail: known.detail });
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return reply({ statusCode: status, code: STATUS_CODES[status] ?? 'BAD_REQUEST' });
  }
  return reply({ statusCode: 500, code: 'INTERNAL' });
}

/** The same body as a string, for the places that write to the socket themselves. */
export function errorBodyText(code: ErrorCode): string {
  return JSON.stringify(reply({ statusCode: 0, code }).body);
}

function reply({
  statusCode,
  code,
  detail,
}: {
  statusCode: number;
  code: ErrorCode;
  detail?: string;
}): ErrorReply {
  const body: ErrorBody = { error: { code, message: ERROR_MESSAGES[code] } };
  if (detail !== undefined) body.error.detail = detail;
  return { status: statusCode, body };
}

/**
 * The provider turns each zod issue into a Fastify validation entry; turned back, they
 * get the same short description ("records.3.day: must be YYYY-MM-DD") as everywhere else.
 */
function describeValidation(
  validation: ZodFastifySchemaValidationError[],
  source: 'body' | 'query',
): string {
  const issues = validation.map(
    (entry) =>
      ({
        ...entry.params,
        code: entry.keyword,
        message: entry.message,
        path: entry.instancePath.split('/').slice(1).filter(Boolean),
      }) as unknown as z.core.$ZodIssue,
  );
  return describeIssues(new z.ZodError(issues), { source });
}
