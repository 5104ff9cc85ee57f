// The read-only sections of the job panel: results (text preview and JSON), artifacts,
// model usage, webhook deliveries, parameters and logs. Each section is rebuilt only when its
// data changed, so an expanded preview or a scrolled log survives live updates.
import { api, apiPath, download } from './api.js';
import { fill, h } from './dom.js';
import { fmtCost, fmtDuration, fmtInt, fmtTime, prettyJson } from './format.js';
import { notify, notifyError } from './ui.js';

const TEXT_ROUTES = /^\/api\/(?:pdf\/text-content|files\/text)\//;
const PREVIEW_KEYS = ['extracted_text', 'text', 'markdown', 'transcript', 'content', 'output_text', 'message'];
const PREVIEW_CHARS = 3000;

const built = new WeakMap();

/** Rebuilds `el` from `build()` only when `value` differs from the last build. */
export const section = (el, value, build) => {
  const key = JSON.stringify(value ?? null);
  if (built.get(el) === key) return;
  built.set(el, key);
  fill(el, build());
};

const block = (title, ...children) => [h('h3', {}, title), ...children];

/** Strings in results that name a text file route (relative or absolute URL) → paths, deduplicated. */
export const textUrls = (results) => {
  const out = new Set();
  let budget = 5000;
  const walk = (v, depth) => {
    if (budget-- <= 0 || depth > 8 || v === null) return;
    if (typeof v === 'string') {
      let path = v;
      if (/^https?:\/\//i.test(v)) {
        try {
          path = new URL(v).pathname;
        } catch {
          return;
        }
      }
      if (TEXT_ROUTES.test(path)) out.add(path);
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, depth + 1));
    else if (typeof v === 'object') Object.values(v).forEach((x) => walk(x, depth + 1));
  };
  walk(results, 0);
  return [...out];
};

/** The artifact routes that apply to a finished job (by the keys its results carry). */
export const artifactLinks = (job) => {
  if (job.status !== 'completed') return [];
  const r = job.results ?? {};
  const id = encodeURIComponent(job.job_id);
  const out = [];
  if (r.archive_path || r.archive_data || r.images_archive_url) out.push({ label: 'Images archive (ZIP)', path: `api/jobs/${id}/download-archive`, name: `job-${job.job_id}-images.zip` });
  if (r.pages_archive_path || r.pages_archive_url) out.push({ label: 'Pages archive (ZIP)', path: `api/pdf/jobs/${id}/download-pages-archive`, name: `pages-${job.job_id}.zip` });
  if (r.mistral_ocr_raw_path) out.push({ label: 'Mistral OCR raw result (JSON)', path: `api/pdf/jobs/${id}/mistral-ocr-raw`, name: `mistral_ocr_raw_${job.job_id}.json` });
  if (r.mistral_ocr_images_path) out.push({ label: 'Mistral OCR images (ZIP)', path: `api/pdf/jobs/${id}/mistral-ocr-images`, name: `mistral_ocr_images_${job.job_id}.zip` });
  return out;
};

const expandable = (text) => {
  const pre = h('pre', { class: 'text-preview' }, text.slice(0, PREVIEW_CHARS));
  if (text.length <= PREVIEW_CHARS) return pre;
  const more = h('button', { type: 'button', class: 'link' }, `Show all ${fmtInt(text.length)} characters`);
  more.addEventListener('click', () => {
    pre.textContent = text;
    more.remove();
  });
  return [pre, more];
};

export const renderResults = (el, job) =>
  section(el, [job.status, job.results], () => {
    const r = job.results;
    if (!r) return block('Results', h('p', { class: 'muted' }, job.status === 'completed' ? 'The job returned no results.' : 'Results appear when the job has completed.'));
    const key = PREVIEW_KEYS.find((k) => typeof r[k] === 'string' && r[k].length > 0);
    return block(
      'Results',
      key ? [h('h4', {}, `Text (${key})`), expandable(r[key])] : null,
      h('h4', {}, 'JSON'),
      h('pre', { class: 'json' }, prettyJson(r)),
    );
  });

const textFile = (path) => {
  const out = h('div', { class: 'text-file' });
  const btn = h('button', { type: 'button', class: 'link mono' }, decodeURIComponent(path.replace(TEXT_ROUTES, '')));
  btn.addEventListener('click', async () => {
    if (out.childElementCount) return void out.replaceChildren();
    try {
      const body = await api(apiPath(path));
      fill(out, expandable(String(body.content ?? '')));
    } catch (err) {
      notifyError('Reading the text file failed', err);
    }
  });
  return h('li', {}, btn, out);
};

export const renderArtifacts = (el, job) =>
  section(el, [job.status, job.results], () => {
    const links = artifactLinks(job);
    const texts = textUrls(job.results);
    if (!links.length && !texts.length) return [];
    const shown = texts.slice(0, 100);
    return block(
      'Artifacts',
      links.length
        ? h(
            'ul',
            { class: 'artifacts' },
            links.map((a) =>
              h(
                'li',
                {},
                h('button', {
                  type: 'button',
                  class: 'link',
                  onclick: async () => {
                    try {
                      const { name, size } = await download(a.path, a.name);
                      notify(`Downloaded ${name} (${fmtInt(size)} bytes)`);
                    } catch (err) {
                      notifyError(`Downloading ${a.label} failed`, err);
                    }
                  },
                }, a.label),
              ),
            ),
          )
        : null,
      texts.length ? [h('h4', {}, `Text files (${texts.length})`), h('ul', { class: 'text-files' }, shown.map(textFile)), texts.length > shown.length ? h('p', { class: 'muted' }, `${texts.length - shown.length} more in the results JSON.`) : null] : null,
    );
  });

export const renderUsage = (el, job) =>
  section(el, job.llm_info, () => {
    const u = job.llm_info;
    if (!u || !u.requests_count) return [];
    const rows = (u.requests ?? []).slice(0, 100);
    return block(
      'Model usage',
      h('dl', { class: 'facts' },
        h('dt', {}, 'Requests'), h('dd', {}, fmtInt(u.requests_count)),
        h('dt', {}, 'Tokens'), h('dd', {}, fmtInt(u.total_tokens)),
        h('dt', {}, 'Time'), h('dd', {}, fmtDuration(u.total_duration)),
        h('dt', {}, 'Cost'), h('dd', {}, fmtCost(u.total_cost))),
      h('table', { class: 'small' },
        h('thead', {}, h('tr', {}, ['Model', 'Purpose', 'Provider', 'Tokens', 'Time', 'Cost'].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows.map((r) => h('tr', {},
          h('td', { class: 'mono' }, r.model), h('td', {}, r.purpose), h('td', {}, r.provider ?? '—'),
          h('td', { class: 'num' }, fmtInt(r.tokens)), h('td', { class: 'num' }, fmtDuration(r.duration)),
          h('td', { class: 'num' }, r.from_cache ? 'cache' : fmtCost(r.cost)))))),
    );
  });

export const renderWebhook = (el, job) =>
  section(el, [job.webhook, job.webhook_deliveries], () => {
    if (!job.webhook) return [];
    const deliveries = job.webhook_deliveries ?? [];
    return block(
      'Webhook',
      h('p', { class: 'mono wrap' }, job.webhook.url),
      deliveries.length
        ? h('table', { class: 'small deliveries' },
            h('thead', {}, h('tr', {}, ['At', 'Kind', 'Try', 'HTTP', 'Latency', 'Outcome', 'Error'].map((t) => h('th', {}, t)))),
            h('tbody', {}, deliveries.map((d) => h('tr', { class: `outcome-${d.outcome}` },
              h('td', {}, fmtTime(d.at)), h('td', {}, d.kind), h('td', { class: 'num' }, String(d.attempt)),
              h('td', { class: 'num' }, d.status_code ?? '—'), h('td', { class: 'num' }, d.latency_ms === null ? '—' : fmtDuration(d.latency_ms)),
              h('td', {}, d.outcome), h('td', { class: 'wrap' }, d.error ?? '')))))
        : h('p', { class: 'muted' }, 'No delivery attempt yet.'),
    );
  });

export const renderParameters = (el, job) =>
  section(el, job.parameters, () => block('Parameters', h('pre', { class: 'json' }, prettyJson(job.parameters ?? {}))));

export const renderLogs = (el, job) => {
  const logs = job.logs ?? [];
  const list = el.querySelector('.logs');
  const atBottom = !list || list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  section(el, logs, () =>
    block(
      `Logs (${logs.length})`,
      logs.length
        ? h('ol', { class: 'logs' }, logs.map((l) => h('li', { class: `log-${l.level}` }, h('time', {}, fmtTime(l.timestamp)), h('span', { class: 'level' }, l.level), h('span', { class: 'msg' }, l.message))))
        : h('p', { class: 'muted' }, 'No log entries.'),
    ),
  );
  const fresh = el.querySelector('.logs');
  if (fresh && atBottom) fresh.scrollTop = fresh.scrollHeight;
};
