/**
 * Reads a multipart (or urlencoded/JSON) ingress request into plain string fields and at most
 * one stored upload. The upload streams straight to `cache/uploads/upload_<uuid><ext>` (never
 * into memory, never under a client-chosen name); it is removed again when the request fails.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { SecretaryError } from '../core/errors.js';
import { uploadsDir } from '../files/cache-layout.js';

export interface IngressForm {
  fields: Record<string, string>;
  upload: { path: string; filename: string; size: number } | null;
}

const safeExt = (name: string): string => {
  const e = extname(name).toLowerCase();
  return /^\.[a-z0-9]{1,8}$/.test(e) ? e : '';
};

export const readIngressForm = async (req: FastifyRequest, cacheDir: string, fileField = 'file'): Promise<IngressForm> => {
  const fields: Record<string, string> = {};
  if (!req.isMultipart()) {
    const body = req.body;
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        if (v === null || v === undefined) continue;
        fields[k] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
      }
    }
    return { fields, upload: null };
  }
  let upload: IngressForm['upload'] = null;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== fileField || upload) {
          part.file.resume();
          continue;
        }
        const dir = uploadsDir(cacheDir);
        await mkdir(dir, { recursive: true });
        const path = join(dir, `upload_${randomUUID()}${safeExt(part.filename ?? '')}`);
        upload = { path, filename: (part.filename ?? '').split(/[\\/]/).pop() || 'upload', size: 0 };
        await pipeline(part.file, createWriteStream(path));
        if (part.file.truncated) throw new SecretaryError('PAYLOAD_TOO_LARGE', 'the upload exceeds the size limit (server.upload_limit_mb)');
        upload.size = part.file.bytesRead;
      } else if (typeof part.value === 'string') {
        fields[part.fieldname] = part.value;
      }
    }
  } catch (err) {
    if (upload) await rm(upload.path, { force: true });
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new SecretaryError('PAYLOAD_TOO_LARGE', 'the upload exceeds the size limit (server.upload_limit_mb)');
    throw err;
  }
  return { fields, upload };
};

/** `"true"`/`"false"` (multipart), booleans; anything else is a 400. */
export const boolField = (fields: Record<string, string>, name: string, fallback: boolean): boolean => {
  const v = fields[name];
  if (v === undefined || v === '') return fallback;
  const t = v.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(t)) return true;
  if (['false', '0', 'no', 'off'].includes(t)) return false;
  throw new SecretaryError('INVALID_PARAMETERS', `${name} must be true or false`, { details: [{ path: `/${name}`, problem: 'must be true or false' }] });
};

export const intField = (fields: Record<string, string>, name: string, min = 0): number | undefined => {
  const v = fields[name];
  if (v === undefined || v === '' || v === 'null') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new SecretaryError('INVALID_PARAMETERS', `${name} must be an integer ≥ ${min}`, { details: [{ path: `/${name}`, problem: `must be an integer ≥ ${min}` }] });
  }
  return n;
};

export const jsonObjectField = (fields: Record<string, string>, name: string): Record<string, unknown> | undefined => {
  const v = fields[name];
  if (v === undefined || v === '' || v === 'null') return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new SecretaryError('INVALID_PARAMETERS', `${name} must be a JSON object`, { details: [{ path: `/${name}`, problem: 'must be a JSON object' }] });
};
