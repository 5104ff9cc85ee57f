/**
 * The few DOM operations the web processors use, typed structurally (the project compiles
 * without the DOM lib), over linkedom's server-side DOM.
 */
import { parseHTML } from 'linkedom';

export interface DomElement {
  readonly tagName: string;
  readonly outerHTML: string;
  innerHTML: string;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  remove(): void;
}

export interface DomDocument {
  readonly title: string;
  readonly body: DomElement | null;
  readonly documentElement: DomElement;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  cloneNode(deep: boolean): unknown;
}

/** Parses an HTML document (never throws on bad markup). */
export const parseDocument = (html: string): DomDocument =>
  parseHTML(html).document as unknown as DomDocument;

/** Throws the parser's message when `selector` is not valid CSS. */
export const assertSelector = (selector: string): void => {
  parseDocument('<!doctype html><html><body></body></html>').querySelectorAll(selector);
};

/** Text of an element with whitespace collapsed. */
export const textOf = (el: DomElement): string =>
  (el.textContent ?? '').replace(/\s+/g, ' ').trim();

/** `href`/`src` made absolute against `base`; other values unchanged; unparsable ones as given. */
export const absolutise = (value: string, base: string): string => {
  if (!value || value.startsWith('#') || /^(data|javascript|mailto|tel):/i.test(value))
    return value;
  try {
    return new URL(value, base).toString();
  } catch {
    return value;
  }
};
