/** The error envelope `{status: 'error', error: {code, message, details?}}` with the registry's HTTP status. */
import type { FastifyReply } from 'fastify';
import { ERROR_CODES, type ErrorCode } from '../core/errors.js';

export interface ErrorBody {
  status: 'error';
  error: { code: string; message: string; details?: unknown };
}

export const errorBody = (code: ErrorCode, message: string, details?: unknown): ErrorBody => ({
  status: 'error',
  error: { code, message, ...(details === undefined || details === null ? {} : { details }) },
});

export const sendError = (reply: FastifyReply, code: ErrorCode, message: string, details?: unknown, status?: number): FastifyReply =>
  reply.code(status ?? ERROR_CODES[code].status).type('application/json; charset=utf-8').send(errorBody(code, message, details));
