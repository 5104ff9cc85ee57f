/**
 * A small XML reader for OOXML parts (slides, notes, relationships): elements with their
 * attributes and children, text with the five predefined and numeric entities decoded.
 * OOXML parts are machine-written and well-formed; there is no DTD support, so no entity
 * expansion (no billion-laughs, no external entities). Names keep their prefix (`a:t`);
 * `local` is the name without it, which is what the walkers match on (generators may pick
 * other prefixes for the same namespace).
 */

export interface XmlElement {
  name: string;
  local: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}

export type XmlNode = XmlElement | string;

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export const decodeEntities = (s: string): string =>
  s.indexOf('&') < 0
    ? s
    : s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, e: string) => {
        if (e[0] === '#') {
          const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
          return Number.isFinite(cp) && cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
        }
        return ENTITIES[e] ?? m;
      });

const localName = (name: string): string => {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
};

const ATTR = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

const element = (tag: string): { el: XmlElement; selfClosing: boolean } => {
  const selfClosing = tag.endsWith('/');
  const body = selfClosing ? tag.slice(0, -1) : tag;
  const m = /^[^\s/>]+/.exec(body);
  const name = m ? m[0] : '';
  const attrs: Record<string, string> = {};
  ATTR.lastIndex = name.length;
  for (let a = ATTR.exec(body); a; a = ATTR.exec(body)) attrs[a[1]!] = decodeEntities(a[2] ?? a[3] ?? '');
  return { el: { name, local: localName(name), attrs, children: [] }, selfClosing };
};

/** Parses `text` into its root element; throws on text that is not XML at all. */
export const parseXml = (text: string): XmlElement => {
  const root: XmlElement = { name: '#document', local: '#document', attrs: {}, children: [] };
  const stack: XmlElement[] = [root];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const lt = text.indexOf('<', i);
    const top = stack[stack.length - 1]!;
    if (lt < 0 || lt > i) {
      const raw = text.slice(i, lt < 0 ? n : lt);
      if (stack.length > 1 && raw.length > 0) top.children.push(decodeEntities(raw));
      if (lt < 0) break;
    }
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      i = end < 0 ? n : end + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      top.children.push(text.slice(lt + 9, end < 0 ? n : end));
      i = end < 0 ? n : end + 3;
    } else if (text[lt + 1] === '?' || text[lt + 1] === '!') {
      const end = text.indexOf('>', lt + 2);
      i = end < 0 ? n : end + 1;
    } else if (text[lt + 1] === '/') {
      const end = text.indexOf('>', lt + 2);
      const name = text.slice(lt + 2, end < 0 ? n : end).trim();
      // close the matching element (tolerates a missing end tag inside it)
      const at = stack.map((e) => e.name).lastIndexOf(name);
      if (at > 0) stack.length = at;
      i = end < 0 ? n : end + 1;
    } else {
      const end = text.indexOf('>', lt + 1);
      if (end < 0) break;
      const { el, selfClosing } = element(text.slice(lt + 1, end).trim());
      top.children.push(el);
      if (!selfClosing) stack.push(el);
      i = end + 1;
    }
  }
  const first = root.children.find((c): c is XmlElement => typeof c !== 'string');
  if (!first) throw new Error('no XML element found');
  return first;
};

export const isElement = (n: XmlNode): n is XmlElement => typeof n !== 'string';

/** Direct child elements, optionally only those with this local name. */
export const children = (e: XmlElement, local?: string): XmlElement[] =>
  e.children.filter((c): c is XmlElement => typeof c !== 'string' && (local === undefined || c.local === local));

/** The first direct child with this local name. */
export const child = (e: XmlElement | undefined, local: string): XmlElement | undefined =>
  e?.children.find((c): c is XmlElement => typeof c !== 'string' && c.local === local);

/** The first element along a path of local names (`child(child(e, a), b)` …). */
export const path = (e: XmlElement | undefined, ...locals: string[]): XmlElement | undefined =>
  locals.reduce<XmlElement | undefined>((cur, l) => child(cur, l), e);

/** Every descendant with this local name, in document order. */
export const descendants = (e: XmlElement, local: string, out: XmlElement[] = []): XmlElement[] => {
  for (const c of e.children) {
    if (typeof c === 'string') continue;
    if (c.local === local) out.push(c);
    descendants(c, local, out);
  }
  return out;
};

/** An attribute by its local name (`r:embed` matches `embed`). */
export const attr = (e: XmlElement | undefined, local: string): string | undefined => {
  if (!e) return undefined;
  if (local in e.attrs) return e.attrs[local];
  for (const [k, v] of Object.entries(e.attrs)) if (localName(k) === local) return v;
  return undefined;
};

/** A prefixed attribute by its local name (`r:id`, `r:embed`), ignoring an unprefixed one. */
export const prefixedAttr = (e: XmlElement | undefined, local: string): string | undefined => {
  if (!e) return undefined;
  for (const [k, v] of Object.entries(e.attrs)) if (k.includes(':') && localName(k) === local) return v;
  return undefined;
};

/** All text below `e`, concatenated. */
export const textOf = (e: XmlElement): string =>
  e.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
