import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, SecretaryError, coerceError, toJobError } from '../../src/core/errors.js';

describe('error code registry', () => {
  it('docs/errors.md lists exactly the registered codes with their HTTP status', () => {
    const md = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
    const documented = new Map(
      [...md.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]),
    );
    const registered = new Map(Object.entries(ERROR_CODES).map(([c, v]) => [c, v.status]));
    expect([...documented.keys()].sort()).toEqual([...registered.keys()].sort());
    for (const [code, status] of registered) expect(documented.get(code), code).toBe(status);
  });

  it('coerces anything thrown into an Error and maps it to a job error', () => {
    expect(coerceError('x').message).toBe('x');
    expect(coerceError(null).message).toMatch(/non-error/);
    expect(coerceError({ a: 1 }).message).toContain('{"a":1}');
    expect(toJobError(new SecretaryError('DOWNLOAD_FAILED', 'net down'))).toMatchObject({ code: 'DOWNLOAD_FAILED', message: 'net down' });
    expect(toJobError(new TypeError('bad'))).toMatchObject({ code: 'HANDLER_ERROR', details: { error_type: 'TypeError' } });
  });
});
