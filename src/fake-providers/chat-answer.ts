/**
 * Deterministic chat answers derived from the request, for the OpenAI- and Mistral-shaped
 * chat endpoints of the fake:
 * - a `json_schema` response format → an object that follows the schema;
 * - JSON wanted (`json_object`, or a prompt with a `REQUIRED FIELDS:` JSON object, the template
 *   engine's marker) → one value per field, derived from the field name, its description and
 *   the prompt's `TEXT:` section (`title` → `"title: <first words of the text>"`);
 * - image parts (vision) → Markdown describing each image (size, brightness, content hash);
 * - otherwise a short text derived from the last user message.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';

interface WireMessage {
  role?: string;
  content?: unknown;
}

export interface ChatBody {
  model?: string;
  messages?: WireMessage[];
  response_format?: {
    type?: string;
    json_schema?: { name?: string; schema?: Record<string, unknown> };
  } | null;
}

export interface ChatAnswer {
  text: string;
  promptTokens: number;
  completionTokens: number;
  /** Image parts seen (vision). */
  images: number;
}

const tokens = (chars: number): number => Math.max(1, Math.ceil(chars / 4));

/** Text parts and image data URLs of a message's `content` (string or parts, OpenAI or Mistral style). */
export const partsOf = (content: unknown): { texts: string[]; images: string[] } => {
  if (typeof content === 'string') return { texts: [content], images: [] };
  const texts: string[] = [];
  const images: string[] = [];
  if (Array.isArray(content)) {
    for (const p of content as Array<Record<string, unknown>>) {
      if (p?.type === 'text' && typeof p.text === 'string') texts.push(p.text);
      if (p?.type === 'image_url') {
        const u = p.image_url;
        const url = typeof u === 'string' ? u : (u as { url?: string } | undefined)?.url;
        if (url) images.push(url);
      }
    }
  }
  return { texts, images };
};

const words = (text: string): string[] =>
  text
    .replace(/\[\[fake:[^\]]*\]\]/g, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter(Boolean);

const firstWords = (text: string, n: number): string => words(text).slice(0, n).join(' ');

/** The input text of a template prompt (`TEXT:` … up to the next section), else the whole text. */
export const sourceText = (userText: string): string => {
  const m = /(?:^|\n)\s*TEXT:\s*\n?([\s\S]*?)(?=\n\s*(?:CONTEXT|REQUIRED FIELDS)\s*:|$)/.exec(
    userText,
  );
  return (m?.[1] ?? userText).trim();
};

/** The JSON object after `REQUIRED FIELDS:` (balanced braces), or null. */
export const requiredFields = (text: string): Record<string, string> | null => {
  const at = text.search(/REQUIRED FIELDS\s*:/i);
  if (at < 0) return null;
  const start = text.indexOf('{', at);
  if (start < 0) return null;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      try {
        const parsed = JSON.parse(text.slice(start, i + 1)) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
          return Object.fromEntries(
            Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, String(v ?? '')]),
          );
        }
      } catch {
        return null;
      }
      return null;
    }
  }
  return null;
};

const LIST_HINT = /\b(array|list|liste|json-array|aufzählung)\b/i;

/** A value for one field: lists where the description asks for one, else `"<field>: <words>"`. */
export const fieldValue = (field: string, description: string, source: string): unknown => {
  const w = words(source);
  if (LIST_HINT.test(description)) {
    return [0, 1].map((i) => `${field} ${i + 1}: ${w.slice(i * 3, i * 3 + 3).join(' ') || field}`);
  }
  if (/\b(number|zahl|integer|anzahl)\b/i.test(description)) return w.length;
  if (/\b(boolean|true\/false|ja\/nein)\b/i.test(description)) return w.length > 0;
  return `${field}: ${firstWords(source, 8) || '(no text)'}`;
};

/** An instance of a JSON schema, values derived from the text. */
export const fromSchema = (
  schema: Record<string, unknown>,
  source: string,
  name = 'value',
): unknown => {
  const pick = (schema.anyOf ?? schema.oneOf) as Array<Record<string, unknown>> | undefined;
  if (pick?.length)
    return fromSchema(pick.find((s) => s.type !== 'null') ?? pick[0]!, source, name);
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if ('const' in schema) return schema.const;
  const type = Array.isArray(schema.type)
    ? (schema.type as string[]).find((t) => t !== 'null')
    : schema.type;
  const description = typeof schema.description === 'string' ? schema.description : '';
  switch (type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      return Object.fromEntries(
        Object.entries(props).map(([k, s]) => [k, fromSchema(s, source, k)]),
      );
    }
    case 'array': {
      const items = (schema.items ?? { type: 'string' }) as Record<string, unknown>;
      const n = Math.max(Number(schema.minItems) || 0, 2);
      return Array.from({ length: n }, (_, i) => fromSchema(items, source, `${name} ${i + 1}`));
    }
    case 'integer':
    case 'number':
      return words(source).length;
    case 'boolean':
      return words(source).length > 0;
    case 'null':
      return null;
    default:
      return fieldValue(name, description, source);
  }
};

const describeImage = async (dataUrl: string, index: number): Promise<string> => {
  const m = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(dataUrl);
  if (!m) return `## Bild ${index + 1}\n\n(external image URL ${dataUrl.slice(0, 80)})`;
  const bytes = Buffer.from(m[3]!, m[2] ? 'base64' : 'utf8');
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  try {
    const img = sharp(bytes);
    const [meta, stats] = await Promise.all([img.metadata(), img.stats()]);
    const mean = Math.round(
      stats.channels.slice(0, 3).reduce((a, c) => a + c.mean, 0) /
        Math.min(3, stats.channels.length),
    );
    return `## Bild ${index + 1}\n\nEine Seite von ${meta.width}×${meta.height} Pixeln, mittlere Helligkeit ${mean}, Inhalt sha256:${hash}.`;
  } catch {
    return `## Bild ${index + 1}\n\n${bytes.length} Bytes, die kein lesbares Bild sind (sha256:${hash}).`;
  }
};

/** The answer for one chat request (directives such as `[[fake:fence]]` shape it further). */
export const answerChat = async (
  body: ChatBody,
  opts: { fence?: boolean; malformed?: boolean; empty?: boolean } = {},
): Promise<ChatAnswer> => {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const all = messages.map((m) => ({ role: m.role ?? 'user', ...partsOf(m.content) }));
  const promptChars = all.reduce((n, m) => n + m.texts.join('').length, 0);
  const images = all.flatMap((m) => m.images);
  const lastUser = [...all].reverse().find((m) => m.role === 'user');
  const userText = lastUser?.texts.join('\n') ?? '';
  const rf = body.response_format;
  const schema = rf?.type === 'json_schema' ? rf.json_schema?.schema : undefined;
  const fields = requiredFields(userText);
  const source = sourceText(userText);
  let text: string;
  if (opts.empty) text = '';
  else if (schema) text = JSON.stringify(fromSchema(schema, source));
  else if (fields || rf?.type === 'json_object') {
    const f = fields ?? { text: 'the text' };
    text = JSON.stringify(
      Object.fromEntries(Object.entries(f).map(([k, d]) => [k, fieldValue(k, d, source)])),
    );
  } else if (images.length) {
    const parts = await Promise.all(images.map((u, i) => describeImage(u, i)));
    const prompt = firstWords(userText, 6);
    text = `${parts.join('\n\n')}${prompt ? `\n\n(Auftrag: ${prompt} …)` : ''}`;
  } else {
    text = `Antwort des Fake-Modells ${body.model ?? ''}: ${firstWords(source, 40)}`.trim();
  }
  if (opts.malformed) text = `${text.slice(0, Math.max(1, Math.floor(text.length / 2)))}`;
  if (opts.malformed && text.startsWith('{') === false) text = `{"broken": ${text}`;
  if (opts.fence) text = `Hier ist das Ergebnis:\n\`\`\`json\n${text}\n\`\`\`\nViel Erfolg!`;
  return {
    text,
    promptTokens: tokens(promptChars) + images.length * 85,
    completionTokens: tokens(text.length),
    images: images.length,
  };
};
