/**
 * Reads a multipart (or urlencoded/JSON) ingress request into plain string fields and at most
 * one stored upload, at `cache/uploads/upload_<uuid><ext>` (never under a client-chosen name):
 * bodies up to 1 MB are read into memory and the file written in one call, larger ones stream
 * to it; the file is removed again when the request fails (`multipart-reader.ts`).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { SecretaryError } from '../core/errors.js';
import { uploadsDir } from '../files/cache-layout.js';
import type { UploadReserve } from '../files/upload-reserve.js';
import { MAX_PARAMETER_DEPTH, nestsDeeperThan } from './job-input.js';
import { readMultipart, type MultipartLimits } from './multipart-reader.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Limits of multipart ingress bodies (set by `buildApp` from `server.upload_limit_mb`). */
    ingressLimits?: MultipartLimits;
    /** Upload files created ahead of time (`server.upload_reserve`). */
    uploadReserve?: UploadReserve;
  }
}

const MB = 1024 * 1024;
const DEFAULT_LIMITS: MultipartLimits = {
  fileSize: 100 * MB,
  files: 20,
  fields: 200,
  fieldSize: MB,
};

export interface IngressForm {
  fields: Record<string, string>;
  upload: { path: string; filename: string; size: number } | null;
}

/**
 * Creates the uploads folder once, not per request: a recursive `mkdir` of an existing folder
 * was ~10 % of the main thread's time under 200 simultaneous uploads (profiled); a cheap
 * `existsSync` re-creates it when retention or a person removed it.
 */
const ensured = new Set<string>();
const ensureDir = async (dir: string): Promise<void> => {
  if (ensured.has(dir) && existsSync(dir)) return;
  await mkdir(dir, { recursive: true });
  ensured.add(dir);
};

/**
 * Uploads up to this size are read into memory and written with one call (into a reserved
 * file): 200 simultaneous 150 KB uploads cost the event loop ~30 % less than streaming each
 * through a `WriteStream` into a newly created file (bench/mistral.ts, `--no-worker` bursts).
 */
const SMALL_UPLOAD_BYTES = MB;

const safeExt = (name: string): string => {
  const e = extname(name).toLowerCase();
  return /^\.[a-z0-9]{1,8}$/.test(e) ? e : '';
};

export const readIngressForm = async (
  req: FastifyRequest,
  cacheDir: string,
  fileField = 'file',
): Promise<IngressForm> => {
  const fields: Record<string, string> = {};
  if (!req.isMultipart()) {
    const body = req.body;
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        if (v === null || v === undefined) continue;
        if (typeof v === 'object' && nestsDeeperThan(v, MAX_PARAMETER_DEPTH)) {
          const problem = `nests deeper than ${MAX_PARAMETER_DEPTH} levels; send a flatter value`;
          throw new SecretaryError('INVALID_PARAMETERS', `field ${JSON.stringify(k)} ${problem}`, {
            details: [{ path: `/${k}`, problem }],
          });
        }
        fields[k] =
          typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
      }
    }
    return { fields, upload: null };
  }
  const dir = uploadsDir(cacheDir);
  const read = await readMultipart(req.raw, {
    limits: req.server.ingressLimits ?? DEFAULT_LIMITS,
    fileField,
    small: {
      maxBytes: SMALL_UPLOAD_BYTES,
      take: (filename) => req.server.uploadReserve?.take(safeExt(filename)) ?? null,
    },
    target: async (filename) => {
      await ensureDir(dir);
      return join(dir, `upload_${randomUUID()}${safeExt(filename)}`);
    },
  });
  return { fields: Object.assign(fields, read.fields), upload: read.file };
};

/** `"true"`/`"false"` (multipart), booleans; anything else is a 400. */
export const boolField = (
  fields: Record<string, string>,
  name: string,
  fallback: boolean,
): boolean => {
  const v = fields[name];
  if (v === undefined || v === '') return fallback;
  const t = v.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(t)) return true;
  if (['false', '0', 'no', 'off'].includes(t)) return false;
  throw new SecretaryError('INVALID_PARAMETERS', `${name} must be true or false`, {
    details: [{ path: `/${name}`, problem: 'must be true or false' }],
  });
};

export const intField = (
  fields: Record<string, string>,
  name: string,
  min = 0,
): number | undefined => {
  const v = fields[name];
  if (v === undefined || v === '' || v === 'null') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new SecretaryError('INVALID_PARAMETERS', `${name} must be an integer ≥ ${min}`, {
      details: [{ path: `/${name}`, problem: `must be an integer ≥ ${min}` }],
    });
  }
  return n;
};

export const jsonObjectField = (
  fields: Record<string, string>,
  name: string,
): Record<string, unknown> | undefined => {
  const v = fields[name];
  if (v === undefined || v === '' || v === 'null') return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new SecretaryError('INVALID_PARAMETERS', `${name} must be a JSON object`, {
    details: [{ path: `/${name}`, problem: 'must be a JSON object' }],
  });
};
