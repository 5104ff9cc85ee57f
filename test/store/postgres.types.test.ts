/** The store's `timestamptz` reader gives exactly what `Date#toISOString` gave before. */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { timestamptzToIso } from '../../src/store/postgres/pg-types.js';

const viaDate = (text: string): string =>
  (pg.types.getTypeParser(1184, 'text')(text) as Date).toISOString();

/** PostgreSQL's ISO output for an instant in a UTC session, with `digits` fraction digits. */
const pgText = (ms: number, digits: number): string => {
  const iso = new Date(ms).toISOString();
  const frac = iso.slice(20, 23).padEnd(6, '0').slice(0, digits).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''}+00`;
};

describe('timestamptzToIso', () => {
  it('matches Date#toISOString for UTC output with 0 to 6 fraction digits', () => {
    const samples = [
      0, 1, 10, 100, 999, 1_000, 1_763_835_539_123, 1_763_835_539_120, 1_763_835_539_100,
      253_402_300_799_999,
    ];
    for (let i = 0; i < 200; i++) samples.push(Math.floor(Math.random() * 4_102_444_800_000));
    for (const ms of samples) {
      for (const digits of [0, 1, 2, 3, 6]) {
        const text = pgText(ms, digits);
        expect(timestamptzToIso(text), text).toBe(viaDate(text));
      }
    }
    expect(timestamptzToIso('2026-11-22 18:58:59.123456+00')).toBe('2026-11-22T18:58:59.123Z');
  });

  it('falls back to the full parser for other zones, BC years and infinity', () => {
    for (const text of [
      '2026-11-22 19:58:59.5+01',
      '2026-11-22 13:28:59.5-05:30',
      '0044-03-15 12:00:00+00 BC',
    ]) {
      expect(timestamptzToIso(text), text).toBe(viaDate(text));
    }
    expect(timestamptzToIso('infinity')).toBe('infinity');
  });
});
