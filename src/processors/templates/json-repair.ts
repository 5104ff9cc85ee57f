/**
 * Turns a model's reply into a JSON object, repairing what models typically get wrong:
 * Markdown code fences, text around the object, trailing commas, comments, raw newlines and
 * bad escapes inside strings, single-quoted strings, unquoted keys, Python's True/False/None,
 * and a reply cut off by the token limit (open strings and brackets are closed).
 *
 * The original stripped fences, cut out the first `{…}` and fixed trailing commas and escapes;
 * when that failed it filled every field with an error string and reported success. Here a
 * reply that cannot be repaired throws `JsonReplyError`, and the caller decides (retry, fail).
 */

export class JsonReplyError extends Error {
  constructor(
    message: string,
    /** The start of the reply, for logs and error details. */
    readonly snippet: string,
  ) {
    super(message);
    this.name = 'JsonReplyError';
  }
}

export interface ParsedReply {
  value: Record<string, unknown>;
  /** What had to be repaired (empty: the reply was clean JSON). */
  repairs: string[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const tryParse = (s: string): { ok: true; value: unknown } | { ok: false; error: string } => {
  try {
    return { ok: true, value: JSON.parse(s) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
};

/** The content of the first fenced code block, or the text after an unclosed opening fence. */
const stripFences = (text: string): string | null => {
  const closed = /```[\w-]*[ \t]*\n?([\s\S]*?)```/.exec(text);
  if (closed) return closed[1]!.trim();
  const open = /^```[\w-]*[ \t]*\n/.exec(text);
  return open ? text.slice(open[0].length).trim() : null;
};

/** From the first `{` to its matching `}` (string-aware), or to the end when it never closes. */
const outermostObject = (text: string): string | null => {
  const start = text.indexOf('{');
  if (start < 0) return null;
  let depth = 0;
  let inString: string | null = null;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === inString) inString = null;
      continue;
    }
    if (c === '"' || c === "'") inString = c;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  return text.slice(start);
};

const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't', 'u']);
const PY_LITERALS: Record<string, string> = { True: 'true', False: 'false', None: 'null' };
const CONTROL: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The next character that is not whitespace, from `i` on. */
const nextSignificant = (s: string, i: number): string | undefined => {
  while (i < s.length && /\s/.test(s[i]!)) i++;
  return s[i];
};

/** One pass that fixes strings, tokens and commas, and closes what a cut-off reply left open. */
const sanitise = (src: string, repairs: Set<string>): string => {
  let out = '';
  const stack: string[] = [];
  let quote: string | null = null;
  let lastSignificant = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quote) {
      if (c === '\\') {
        const n = src[i + 1];
        if (n === undefined) break;
        if (n === "'" && quote === "'") {
          out += "'";
        } else if (
          !ESCAPES.has(n) ||
          (n === 'u' && !/^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6)))
        ) {
          out += '\\\\' + n;
          repairs.add('invalid escapes');
        } else out += c + n;
        i++;
      } else if (c === quote) {
        out += '"';
        quote = null;
        lastSignificant = '"';
      } else if (c === '"') {
        out += '\\"';
      } else if (c < ' ') {
        out += CONTROL[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
        repairs.add('control characters in strings');
      } else out += c;
      continue;
    }
    if (c === '"' || c === "'") {
      if (c === "'") repairs.add('single-quoted strings');
      quote = c;
      out += '"';
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      repairs.add('comments');
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 1;
      repairs.add('comments');
    } else if (
      c === ',' &&
      (nextSignificant(src, i + 1) === '}' || nextSignificant(src, i + 1) === ']')
    ) {
      repairs.add('trailing commas');
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i;
      while (j < src.length && /[\w$]/.test(src[j]!)) j++;
      const word = src.slice(i, j);
      i = j - 1;
      if ((lastSignificant === '{' || lastSignificant === ',') && nextSignificant(src, j) === ':') {
        out += JSON.stringify(word);
        repairs.add('unquoted keys');
      } else if (word in PY_LITERALS) {
        out += PY_LITERALS[word];
        repairs.add('Python literals');
      } else out += word;
      lastSignificant = 'w';
    } else {
      if (c === '{' || c === '[') stack.push(c === '{' ? '}' : ']');
      else if ((c === '}' || c === ']') && stack.length) stack.pop();
      out += c;
      if (!/\s/.test(c)) lastSignificant = c;
    }
  }
  if (quote || stack.length) {
    repairs.add('closed a cut-off reply');
    if (quote) out += '"';
    out = out.replace(/[\s,]+$/, '');
    if (/:\s*$/.test(out)) out += 'null';
    else if (/[{,]\s*"(?:[^"\\]|\\.)*"$/.test(out) && stack[stack.length - 1] === '}')
      out += ': null';
    while (stack.length) out += stack.pop();
  }
  return out;
};

/** Parses a reply into a JSON object, repairing it when needed; throws `JsonReplyError`. */
export const parseJsonReply = (raw: string): ParsedReply => {
  const text = raw.replace(/^\uFEFF/, '').trim();
  const snippet = text.slice(0, 300);
  if (!text) throw new JsonReplyError('the reply is empty', snippet);
  const repairs = new Set<string>();
  let candidate = text;
  const fenced = stripFences(text);
  if (fenced !== null) {
    candidate = fenced;
    repairs.add('code fence');
  }
  const direct = tryParse(candidate);
  if (direct.ok && isPlainObject(direct.value))
    return { value: direct.value, repairs: [...repairs] };
  const object = outermostObject(candidate);
  if (object === null) {
    throw new JsonReplyError(
      direct.ok ? 'the reply is JSON but not an object' : 'the reply contains no JSON object',
      snippet,
    );
  }
  if (object !== candidate) repairs.add('text around the object');
  const fixed = sanitise(object, repairs);
  const second = tryParse(fixed);
  if (second.ok && isPlainObject(second.value))
    return { value: second.value, repairs: [...repairs] };
  throw new JsonReplyError(
    `the reply is not valid JSON${second.ok ? '' : ` (${second.error})`}`,
    snippet,
  );
};
