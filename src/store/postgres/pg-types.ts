/**
 * How the store's connections read column types: `timestamptz` comes back as the API's ISO
 * text (`2026-11-22T18:58:59.123Z`) instead of a `Date`. The model holds ISO strings, so a
 * `Date` was parsed from text only to be formatted back to text, for every timestamp of every
 * row (a fifth of the client's CPU in a no-op drain). Everything else keeps `pg`'s parsers.
 */
import pg from 'pg';

const TIMESTAMPTZ_OID = 1184;

const defaultTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (
  text: string,
) => unknown;

/**
 * PostgreSQL's ISO output (`DateStyle = ISO`), e.g. `2026-11-22 18:58:59.12+00`, as
 * `Date.prototype.toISOString` would print it. The common case (UTC session, year 1000–9999) is
 * a string rewrite; anything else (another time zone or DateStyle, BC years, infinity) goes
 * through `pg`'s own parser and `Date`, exactly as before.
 */
export const timestamptzToIso = (text: string): string => {
  // YYYY-MM-DD HH:MM:SS[.f{1,6}]+00
  if (
    text.length >= 22 &&
    text.endsWith('+00') &&
    text[4] === '-' &&
    text[10] === ' ' &&
    text[19] !== ':'
  ) {
    const head = text.slice(0, 10);
    const time = text.slice(11, 19);
    if (text[19] === '+') return `${head}T${time}.000Z`;
    if (text[19] === '.') {
      const frac = text.slice(20, text.length - 3);
      if (frac.length >= 1 && frac.length <= 6)
        return `${head}T${time}.${(frac + '00').slice(0, 3)}Z`;
    }
  }
  const d = defaultTimestamptz(text);
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : text;
};

/** The `types` option of the store's pool. */
export const STORE_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ_OID && format !== 'binary'
      ? timestamptzToIso
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};
