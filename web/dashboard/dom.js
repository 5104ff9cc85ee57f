// Tiny DOM helpers. Everything the page shows from the API goes through text nodes
// (never innerHTML), so job data can never become markup or code.

/**
 * Creates an element: h('a', {href, class: 'x', onclick}, 'text', child, [more]).
 * Props starting with "on" become listeners; `dataset` and `style` objects are merged;
 * null/false props and children are skipped.
 */
export const h = (tag, props, ...children) => {
  const el = tag.includes(':') ? document.createElementNS('http://www.w3.org/2000/svg', tag.split(':')[1]) : document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k in el && !(el instanceof SVGElement) && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
};

const append = (el, children) => {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
};

/** Replaces an element's children. */
export const fill = (el, ...children) => {
  el.replaceChildren();
  append(el, children);
  return el;
};

export const $ = (sel, root = document) => root.querySelector(sel);

/** Calls `fn` at most once per `ms`, always with the latest arguments (trailing call kept). */
export const throttle = (fn, ms) => {
  let last = 0;
  let timer = null;
  let args = [];
  const run = () => {
    timer = null;
    last = Date.now();
    fn(...args);
  };
  const wrapped = (...a) => {
    args = a;
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(run, wait);
  };
  wrapped.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return wrapped;
};
