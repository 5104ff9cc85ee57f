// Two small SVG charts for the header: queue depth over time (lines) and jobs ended per
// minute (stacked bars). No library: a few rects and polylines.
import { h } from './dom.js';
import { fmtTime } from './format.js';

const W = 180;
const H = 40;

const frame = (label, children) =>
  h('svg:svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'chart', role: 'img', 'aria-label': label }, h('svg:title', {}, label), children);

/** Queue samples `{t, pending, processing}` → two polylines on one scale; `end` is the server's now. */
export const queueChart = (samples, spanMs, end = Date.now()) => {
  const from = end - spanMs;
  const max = Math.max(1, ...samples.map((s) => Math.max(s.pending, s.processing)));
  const x = (t) => ((Date.parse(t) - from) / spanMs) * (W - 2) + 1;
  const y = (v) => H - 2 - (v / max) * (H - 6);
  const line = (key, cls) =>
    samples.length === 0 ? null : h('svg:polyline', { class: cls, points: samples.map((s) => `${x(s.t).toFixed(1)},${y(s[key]).toFixed(1)}`).join(' ') });
  const last = samples[samples.length - 1];
  const label = last
    ? `Queue: ${last.pending} pending, ${last.processing} processing at ${fmtTime(last.t)} (max ${max} in the window)`
    : 'Queue: no samples yet (taken every few seconds)';
  return frame(label, [h('svg:line', { class: 'axis', x1: 0, x2: W, y1: H - 1, y2: H - 1 }), line('pending', 'line-pending'), line('processing', 'line-processing')]);
};

/** Buckets `{t, completed, failed, cancelled}` (one per minute, oldest first) → stacked bars. */
export const throughputChart = (buckets) => {
  const n = Math.max(1, buckets.length);
  const max = Math.max(1, ...buckets.map((b) => b.completed + b.failed + b.cancelled));
  const bw = W / n;
  const bars = buckets.map((b, i) => {
    const x = i * bw + 1;
    const scale = (v) => (v / max) * (H - 4);
    const hc = scale(b.completed);
    const hf = scale(b.failed + b.cancelled);
    const title = `${fmtTime(b.t)}: ${b.completed} completed, ${b.failed} failed, ${b.cancelled} cancelled`;
    return h(
      'svg:g',
      {},
      h('svg:title', {}, title),
      h('svg:rect', { class: 'bar-bg', x, y: 0, width: Math.max(1, bw - 2), height: H }),
      hc > 0 ? h('svg:rect', { class: 'bar-completed', x, y: H - hc, width: Math.max(1, bw - 2), height: hc }) : null,
      hf > 0 ? h('svg:rect', { class: 'bar-failed', x, y: H - hc - hf, width: Math.max(1, bw - 2), height: hf }) : null,
    );
  });
  const total = buckets.reduce((s, b) => s + b.completed, 0);
  return frame(`Completed per minute over the last ${n} minutes: ${total} in total, at most ${max} in one minute`, bars);
};
