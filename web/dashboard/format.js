// Formatting of times, durations, numbers and JSON for display.

const pad = (n) => String(n).padStart(2, '0');

/** Local date and time, "2025-01-31 14:05:09"; today's times without the date. */
export const fmtTime = (iso) => {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
};

/** "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export const fmtDuration = (ms) => {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${pad(Math.floor(s % 60))} s`;
  return `${Math.floor(m / 60)} h ${pad(m % 60)} min`;
};

/** How long a job ran (or has been running, or waited so far). */
export const jobDuration = (job, now = Date.now()) => {
  const start = Date.parse(job.processing_started_at ?? '');
  if (Number.isNaN(start)) return null;
  const end = job.completed_at ? Date.parse(job.completed_at) : job.status === 'processing' ? now : Date.parse(job.updated_at ?? '');
  return Number.isNaN(end) ? null : Math.max(0, end - start);
};

export const fmtInt = (n) => (typeof n === 'number' && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');

export const fmtCost = (usd) => {
  if (usd === null) return 'unknown (unpriced model)';
  if (typeof usd !== 'number' || !Number.isFinite(usd)) return '—';
  return `$${usd < 0.01 && usd > 0 ? usd.toFixed(5) : usd.toFixed(usd < 1 ? 4 : 2)}`;
};

export const percentOf = (progress) => {
  const p = progress && typeof progress.percent === 'number' ? progress.percent : 0;
  return Math.max(0, Math.min(100, Math.round(p)));
};

/**
 * Pretty JSON whose long strings are cut (base64 archives, page texts): `maxString`
 * characters, then a note of how many were left out.
 */
export const prettyJson = (value, maxString = 600) => {
  const seen = new WeakSet();
  return JSON.stringify(
    value,
    (_k, v) => {
      if (typeof v === 'string' && v.length > maxString) return `${v.slice(0, maxString)}… (${v.length - maxString} more characters)`;
      if (v && typeof v === 'object') {
        if (seen.has(v)) return '[circular]';
        seen.add(v);
      }
      return v;
    },
    2,
  );
};

export const shortId = (id) => (typeof id === 'string' && id.length > 16 ? `${id.slice(0, 13)}…` : (id ?? ''));
