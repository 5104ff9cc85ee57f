/**
 * Selector extraction (original §5.3), for list pages: the HTML of up to 50 repeated containers
 * (`container_selector`) goes to the model, which answers one CSS selector per field (relative
 * to a container, `@attr` to read an attribute); then every container of the page is scraped
 * by rule, without the model. One call, whatever the number of items.
 */
import { UnrecoverableError } from '../../core/errors.js';
import type { ModelGateway } from '../llm/model-gateway.js';
import { JsonReplyError } from '../templates/json-repair.js';
import { REQUIRED_FIELDS_MARKER } from '../templates/template-prompt.js';
import { absolutise, parseDocument, textOf, type DomElement } from '../web/dom.js';
import { callForJson, type CallRecord } from './json-call.js';
import type { ModelCall } from './template-transform.js';

export const MAX_SNIPPETS = 50;
const SNIPPET_CHARS = 3000;
const SNIPPETS_BUDGET = 60_000;

export interface SelectorExtraction {
  selectors: Record<string, string>;
  items: Array<Record<string, string | null>>;
  item_count: number;
  containers: number;
  warnings: string[];
  calls: CallRecord[];
}

const containersOf = (html: string, selector: string): DomElement[] => {
  const doc = parseDocument(html);
  try {
    return Array.from(doc.querySelectorAll(selector));
  } catch (err) {
    throw new UnrecoverableError(
      `container_selector ${JSON.stringify(selector)} is not valid CSS: ${err instanceof Error ? err.message : String(err)}`,
      'INVALID_PARAMETERS',
      { details: [{ path: '/container_selector', problem: 'not a valid CSS selector' }] },
    );
  }
};

/** Container HTML for the prompt: scripts, styles and inline styles dropped, each snippet capped. */
export const containerSnippets = (containers: DomElement[], max = MAX_SNIPPETS): string[] => {
  const out: string[] = [];
  let used = 0;
  for (const c of containers.slice(0, max)) {
    const html = c.outerHTML
      .replace(/<(script|style|noscript)\b[\s\S]*?<\/\1>/gi, '')
      .replace(/\s(style|onclick|onload)="[^"]*"/gi, '')
      .replace(/\s+/g, ' ')
      .slice(0, SNIPPET_CHARS);
    if (used + html.length > SNIPPETS_BUDGET && out.length) break;
    used += html.length;
    out.push(html);
  }
  return out;
};

/** `a.title@href` → selector `a.title`, attribute `href`; `:scope` (or `@attr` alone) → the container itself; `""` → no value. */
export const splitSelector = (s: string): { selector: string; attr: string | null } => {
  const m = /^(.*?)\s*@([A-Za-z_:][-\w:.]*)$/.exec(s.trim());
  return m ? { selector: m[1]!.trim(), attr: m[2]! } : { selector: s.trim(), attr: null };
};

/** Scrapes every container with the selectors (pure); bad selectors give null and a warning. */
export const scrapeContainers = (
  containers: DomElement[],
  selectors: Record<string, string>,
  pageUrl: string,
): { items: Array<Record<string, string | null>>; warnings: string[] } => {
  const warnings = new Set<string>();
  const items: Array<Record<string, string | null>> = [];
  for (const c of containers) {
    const item: Record<string, string | null> = {};
    for (const [field, raw] of Object.entries(selectors)) {
      const { selector, attr } = splitSelector(raw);
      let el: DomElement | null = null;
      try {
        if (raw.trim()) el = !selector || selector === ':scope' ? c : c.querySelector(selector);
      } catch {
        warnings.add(`${field}: selector ${JSON.stringify(raw)} is not valid CSS`);
      }
      let value: string | null = null;
      if (el && attr) {
        const v = el.getAttribute(attr);
        value =
          v === null
            ? null
            : attr === 'href' || attr === 'src'
              ? absolutise(v.trim(), pageUrl)
              : v.trim();
      } else if (el) value = textOf(el);
      item[field] = value === '' ? null : value;
    }
    if (Object.values(item).some((v) => v !== null)) items.push(item);
  }
  return { items, warnings: [...warnings] };
};

const SYSTEM =
  'You are a web-scraping engineer. You write robust CSS selectors that find the same kind of value in every one of a list of repeated HTML containers. Reply with one JSON object only.';

const userPrompt = (
  container: string,
  snippets: string[],
  total: number,
  fields: Record<string, string>,
): string => {
  const required = Object.fromEntries(
    Object.entries(fields).map(([k, d]) => [
      k,
      `CSS selector (relative to one container) of the element holding: ${d}`,
    ]),
  );
  return (
    `CONTAINER SELECTOR: ${container} (${total} containers on the page, ${snippets.length} shown)\n\n` +
    `HTML OF THE CONTAINERS:\n${snippets.map((s, i) => `<!-- container ${i + 1} -->\n${s}`).join('\n')}\n\n` +
    `${REQUIRED_FIELDS_MARKER}\n${JSON.stringify(required, null, 2)}\n\n` +
    'INSTRUCTIONS:\n' +
    '1. For each field, give one CSS selector that is evaluated inside one container element\n' +
    '2. Append @attribute to read an attribute instead of the text (e.g. "a.title@href", "img@src")\n' +
    '3. Use ":scope" for the container itself and "" when a field is not present in the containers\n' +
    '4. Prefer class names and structure that all containers share\n' +
    '5. Return a single JSON object: field name → selector string; nothing outside the JSON object'
  );
};

export const extractWithSelectors = async (
  gateway: ModelGateway,
  input: { html: string; url: string; containerSelector: string; fields: Record<string, string> },
  call: ModelCall,
  opts: { temperature: number },
): Promise<SelectorExtraction> => {
  const containers = containersOf(input.html, input.containerSelector);
  if (!containers.length) {
    throw new UnrecoverableError(
      `container_selector ${JSON.stringify(input.containerSelector)} matched nothing on ${input.url}; check the selector against the page's HTML`,
      'SELECTOR_NO_MATCH',
      { container_selector: input.containerSelector, url: input.url },
    );
  }
  const snippets = containerSnippets(containers);
  const fields = Object.keys(input.fields);
  const result = await callForJson(
    gateway,
    {
      messages: [
        { role: 'system', content: SYSTEM },
        {
          role: 'user',
          content: userPrompt(input.containerSelector, snippets, containers.length, input.fields),
        },
      ],
      temperature: call.temperature ?? opts.temperature,
      responseFormat: { type: 'json_object' },
      purpose: 'selector_extraction',
      processor: 'TransformerProcessor',
      signal: call.signal,
      provider: call.provider,
      model: call.model,
      useCache: call.useCache,
      usage: call.usage,
    },
    (v) => fields.filter((f) => typeof v[f] !== 'string' && v[f] !== null && v[f] !== undefined),
    (why) => call.log?.('warn', `selector reply unusable (${why}); asking once more`),
  ).catch((err: unknown) => {
    if (!(err instanceof JsonReplyError)) throw err;
    throw new UnrecoverableError(
      `the model did not answer the selectors as a JSON object after one retry: ${err.message}`,
      'TEMPLATE_TRANSFORMATION_ERROR',
      { container_selector: input.containerSelector },
    );
  });
  const selectors = Object.fromEntries(
    fields.map((f) => [f, typeof result.value[f] === 'string' ? (result.value[f] as string) : '']),
  );
  const { items, warnings } = scrapeContainers(containers, selectors, input.url);
  for (const f of fields) if (!selectors[f]) warnings.push(`${f}: no selector`);
  return {
    selectors,
    items,
    item_count: items.length,
    containers: containers.length,
    warnings,
    calls: result.calls,
  };
};
