/**
 * Every error leaves as the JSON envelope with a registry code: validation → 400
 * INVALID_PARAMETERS with `{path, problem}` details, bad JSON → 400 INVALID_JSON, too large →
 * 413 PAYLOAD_TOO_LARGE, unknown route → 404 NOT_FOUND, anything unexpected → 500
 * INTERNAL_ERROR with the stack in the log only. Never HTML, never a stack trace.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SecretaryError, type ErrorCode } from '../../core/errors.js';
import { sendError } from '../reply-error.js';
import { globalPlugin } from './global-plugin.js';

interface ValidationItem {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const validationDetails = (err: FastifyError): { path: string; problem: string }[] => {
  const ctx = (err as { validationContext?: string }).validationContext;
  const prefix = ctx && ctx !== 'body' ? `/${ctx}` : '';
  return ((err.validation ?? []) as ValidationItem[]).slice(0, 20).map((v) => {
    const missing = typeof v.params?.missingProperty === 'string' ? `/${v.params.missingProperty}` : '';
    return { path: `${prefix}${v.instancePath ?? ''}${missing}` || '/', problem: v.message ?? 'invalid' };
  });
};

const STATUS_CODES: Record<number, ErrorCode> = {
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
};

/** Maps any thrown error to the envelope; shared by the error handler and `frameworkErrors`. */
export const replyWithError = (err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
  if (err instanceof SecretaryError) {
    // `{details: [{path, problem}]}` (the form store and handler errors use) is answered as the array
    const d = err.details as { details?: unknown } | null;
    const details = d && Array.isArray(d.details) && Object.keys(d).length === 1 ? d.details : err.details;
    return sendError(reply, err.code, err.message, details);
  }
  const e = err as FastifyError;
  if (e && Array.isArray(e.validation)) {
    return sendError(reply, 'INVALID_PARAMETERS', 'the request failed validation', validationDetails(e));
  }
  const code = typeof e?.code === 'string' ? e.code : '';
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (status === 400 && e instanceof SyntaxError)) {
    return sendError(reply, 'INVALID_JSON', 'the request body is not valid JSON');
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return sendError(reply, 'INVALID_PARAMETERS', `unsupported Content-Type; send application/json`, [
      { path: '/headers/content-type', problem: 'unsupported media type' },
    ]);
  }
  if (code === 'FST_ERR_BAD_URL') return sendError(reply, 'INVALID_PARAMETERS', 'the URL is not valid (bad percent-encoding)');
  if (status === 413 || code === 'FST_ERR_CTP_BODY_TOO_LARGE' || code === 'FST_REQ_FILE_TOO_LARGE') {
    return sendError(reply, 'PAYLOAD_TOO_LARGE', 'the request body or upload exceeds the configured size limit', undefined, 413);
  }
  if (status >= 400 && status < 500) {
    const mapped = STATUS_CODES[status] ?? 'INVALID_PARAMETERS';
    const message = typeof e?.message === 'string' && e.message.length < 300 ? e.message : 'bad request';
    return sendError(reply, mapped, message, undefined, status);
  }
  request.log.error({ err: e, url: request.url, method: request.method }, 'request failed');
  return sendError(reply, 'INTERNAL_ERROR', 'an unexpected server error; details are in the server log', undefined, 500);
};

export const errorHandlerPlugin = globalPlugin('secretary-errors', async (app: FastifyInstance) => {
  app.setErrorHandler((err, request, reply) => replyWithError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]?.slice(0, 200) ?? ''}`),
  );
});
