/** Web pages → Markdown (guarded download, Readability, turndown) and CSS selector helpers. */
export {
  DESKTOP_USER_AGENT,
  fetchHtml,
  fetchWebPage,
  htmlToMarkdown,
  type FetchPageOptions,
  type WebPage,
} from './web-page.js';
export {
  absolutise,
  assertSelector,
  parseDocument,
  textOf,
  type DomDocument,
  type DomElement,
} from './dom.js';
