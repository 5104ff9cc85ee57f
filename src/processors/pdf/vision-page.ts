/**
 * Page images to Markdown with a vision model (the `llm*` methods): the original's German
 * page prompt (reference §7.1), adjusted by `context` (`document_type`, `language`,
 * `extract_formulas`, `preserve_formatting`, `focus_on_tables`), sent through the model
 * gateway's `vision` use case with `detail: high`, temperature 0.1 and at most 4,000 tokens.
 * A failed call fails the page (and so the job) with the provider's error code: there is no
 * silent fallback to the native text.
 */
import type { ChatRequest, ChatResult, UsageSink } from '../llm/types.js';
import type { PageVisionProvider } from './types.js';

/** What the prompt can be adjusted by (the job's `context`). */
export interface VisionPromptContext {
  document_type?: unknown;
  language?: unknown;
  extract_formulas?: unknown;
  preserve_formatting?: unknown;
  focus_on_tables?: unknown;
}

const BASE_PROMPT = `Konvertiere den Text dieses Bildes in strukturiertes Markdown.

Wichtige Anforderungen:
1. Verarbeite die Texte in der Reihenfolge, wie ein Leser sie wahrnehmen würde (von oben nach unten, links nach rechts)
2. Füge Bilder als Platzhalter mit detaillierter Bildbeschreibung ein: ![Bildbeschreibung](placeholder.jpg)
3. Füge mehrspaltige Texte sinnvoll aneinander
4. Konvertiere Tabellen in Markdown-Tabellen
5. Verwende passende Markdown-Strukturen (Überschriften, Listen, etc.)
6. Behalte die logische Struktur und Hierarchie des Dokuments bei
7. Extrahiere ALLE sichtbaren Texte, auch kleine Details wie Fußnoten oder Bildunterschriften

Antworte NUR mit dem Markdown-Text, ohne zusätzliche Erklärungen.`;

const DOCUMENT_FOCUS: Record<string, string> = {
  scientific_paper: 'Formeln, Referenzen, Abbildungsunterschriften, Tabellen mit Daten.',
  presentation: 'Folientitel, Bullet Points, Diagramme, Sprecher-Notizen.',
  technical_document:
    'Code-Snippets, technische Spezifikationen, Diagramme, Schritt-für-Schritt-Anleitungen.',
};

const truthy = (v: unknown): boolean => v === true || v === 'true' || v === 1;

/** The page prompt for a job's context (German unless `context.language` says otherwise). */
export const visionPagePrompt = (context: VisionPromptContext | null | undefined = {}): string => {
  const c = context ?? {};
  const language = typeof c.language === 'string' && c.language.trim() ? c.language.trim() : 'de';
  let prompt = BASE_PROMPT;
  if (language.toLowerCase() !== 'de') {
    prompt = prompt.replace(
      'Konvertiere den Text dieses Bildes in strukturiertes Markdown.',
      `Convert the text of this image to structured Markdown in ${language}.`,
    );
  }
  const focus = typeof c.document_type === 'string' ? DOCUMENT_FOCUS[c.document_type] : undefined;
  if (focus) prompt += `\n\nBesondere Aufmerksamkeit auf: ${focus}`;
  if (truthy(c.extract_formulas)) prompt += '\n\nExtrahiere mathematische Formeln in LaTeX-Notation.';
  if (truthy(c.preserve_formatting)) {
    prompt += '\n\nBehalte die ursprüngliche Formatierung so genau wie möglich bei.';
  }
  if (truthy(c.focus_on_tables)) {
    prompt += '\n\nLege besonderen Fokus auf die korrekte Extraktion und Formatierung von Tabellen.';
  }
  return prompt;
};

/** Removes a code fence the model wrapped its Markdown in. */
export const stripMarkdownFence = (md: string): string =>
  md
    .trim()
    .replace(/^```(?:markdown|md)?[ \t]*\n?/i, '')
    .replace(/\n?```$/, '')
    .trim();

export interface VisionPageOptions {
  /** The gateway's `chat` (bound by the caller: `(r) => models.chat('vision', r)`). */
  chat: (req: ChatRequest) => Promise<ChatResult>;
  context?: VisionPromptContext | null;
  usage?: UsageSink | null;
  useCache?: boolean;
  /** Pages in flight at once (the provider's `max_concurrent`). Default 4. */
  concurrency?: number;
  provider?: string | null;
  model?: string | null;
}

/** A `PageVisionProvider` for `extractPdf` that asks the vision model for each page. */
export const createVisionPageProvider = (o: VisionPageOptions): PageVisionProvider => {
  const prompt = visionPagePrompt(o.context);
  return {
    concurrency: o.concurrency ?? 4,
    pageToMarkdown: async ({ image, mimeType, signal }) => {
      const r = await o.chat({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: prompt },
              { type: 'image', data: image, mimeType, detail: 'high' },
            ],
          },
        ],
        temperature: 0.1,
        maxTokens: 4000,
        signal,
        usage: o.usage ?? null,
        useCache: o.useCache ?? false,
        purpose: 'image_to_markdown',
        processor: 'PDFProcessor',
        provider: o.provider ?? null,
        model: o.model ?? null,
      });
      return { markdown: stripMarkdownFence(r.text) };
    },
  };
};
