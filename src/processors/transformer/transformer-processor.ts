/**
 * The transformer: template mode (text or a web page + a template), text mode (translate,
 * summarise, format) and chat mode, over one model gateway and one template library per
 * process. Knows nothing of jobs: handlers pass a `ModelCall` (signal, usage, overrides).
 */
import { SecretaryError } from '../../core/errors.js';
import type { GuardOptions } from '../../net/url-guard.js';
import type { ModelGateway } from '../llm/model-gateway.js';
import {
  inlineTemplate,
  type LoadedTemplate,
  type TemplateLibrary,
} from '../templates/template-library.js';
import { requiredFields } from '../templates/template-prompt.js';
import { fetchWebPage, type WebPage } from '../web/web-page.js';
import {
  transformChat,
  type ChatTransformInput,
  type ChatTransformResult,
} from './chat-transform.js';
import type { CallRecord } from './json-call.js';
import { extractWithSelectors } from './selector-extraction.js';
import {
  transformWithTemplate,
  type ModelCall,
  type TemplateTransformResult,
} from './template-transform.js';
import {
  transformText,
  type TextTransformInput,
  type TextTransformResult,
} from './text-transform.js';

export interface TransformerOptions {
  gateway: ModelGateway;
  templates: TemplateLibrary;
  /** Default sampling temperature (config `llm.temperature`). */
  temperature: number;
  /** How fields are asked for where the provider has `json_mode`. */
  responseFormat: 'json_schema' | 'json_object';
  web: { timeoutMs: number; maxBytes: number; guard: GuardOptions; userAgent?: string };
}

export interface TemplateRequest {
  /** Exactly one of `text` and `url`. */
  text?: string | null;
  url?: string | null;
  /** Exactly one of `template` (a name) and `templateContent`. */
  template?: string | null;
  templateContent?: string | null;
  context?: Record<string, unknown> | null;
  additionalFields?: Record<string, string> | null;
  sourceLanguage?: string | null;
  targetLanguage: string;
  /** URL mode with template fields: scrape repeated containers (selector extraction). */
  containerSelector?: string | null;
}

export interface TemplateResponse {
  text: string;
  structured_data: Record<string, unknown>;
  language: string;
  format: 'text' | 'json';
  template: string | null;
  fields: string[];
  repairs: string[];
  warnings: string[];
  calls: CallRecord[];
  /** URL mode: what was fetched (without the HTML). */
  page: Omit<WebPage, 'html' | 'markdown'> | null;
}

/** The original's automatic container for its event site (§3.6). */
const AUTO_CONTAINERS: Record<string, string> = { 'sfscon.it': 'li.single-element.sfscon' };

export const autoContainerSelector = (url: string): string | null => {
  try {
    const host = new URL(url).hostname.toLowerCase();
    for (const [domain, selector] of Object.entries(AUTO_CONTAINERS)) {
      if (host === domain || host.endsWith(`.${domain}`)) return selector;
    }
  } catch {
    return null;
  }
  return null;
};

export class TransformerProcessor {
  constructor(private readonly opts: TransformerOptions) {}

  get templates(): TemplateLibrary {
    return this.opts.templates;
  }

  /** The template of a request: by name (language variant first) or inline. */
  loadTemplate(
    req: Pick<TemplateRequest, 'template' | 'templateContent' | 'targetLanguage'>,
  ): LoadedTemplate {
    if (req.templateContent) return inlineTemplate(req.templateContent);
    if (req.template) return this.opts.templates.load(req.template, req.targetLanguage);
    throw new SecretaryError('INVALID_PARAMETERS', 'give template or template_content', {
      details: [
        { path: '/template', problem: 'exactly one of template and template_content is required' },
      ],
    });
  }

  async template(req: TemplateRequest, call: ModelCall): Promise<TemplateResponse> {
    const template = this.loadTemplate(req);
    const common = { temperature: this.opts.temperature };
    if (!req.url) {
      const r = await transformWithTemplate(
        this.opts.gateway,
        {
          template,
          text: req.text ?? '',
          context: req.context,
          additionalFields: req.additionalFields,
          targetLanguage: req.targetLanguage,
        },
        call,
        { ...common, responseFormat: this.opts.responseFormat },
      );
      return { ...r, template: template.name, page: null };
    }
    call.log?.('info', `fetching ${req.url}`);
    const page = await fetchWebPage(req.url, { ...this.opts.web, signal: call.signal });
    const { html, markdown, ...meta } = page;
    call.log?.('info', `page "${page.title}" → ${markdown.length} characters of Markdown`);
    const fields = requiredFields(template.parsed, req.additionalFields);
    const container = req.containerSelector || autoContainerSelector(page.url);
    if (container && Object.keys(fields).length) {
      const x = await extractWithSelectors(
        this.opts.gateway,
        { html, url: page.url, containerSelector: container, fields },
        call,
        common,
      );
      call.log?.(
        'info',
        `selector extraction: ${x.item_count} items from ${x.containers} containers`,
      );
      return {
        text: JSON.stringify(x.items, null, 2),
        structured_data: { selectors: x.selectors, items: x.items, item_count: x.item_count },
        language: req.targetLanguage,
        format: 'json',
        template: template.name,
        fields: Object.keys(fields),
        repairs: [],
        warnings: x.warnings,
        calls: x.calls,
        page: meta,
      };
    }
    const text = `url: ${page.url}\ntitle: ${page.title}\n${page.byline ? `byline: ${page.byline}\n` : ''}\n${markdown}`;
    const r: TemplateTransformResult = await transformWithTemplate(
      this.opts.gateway,
      {
        template,
        text,
        context: { url: page.url, ...req.context },
        additionalFields: req.additionalFields,
        targetLanguage: req.targetLanguage,
      },
      call,
      { ...common, responseFormat: this.opts.responseFormat },
    );
    return { ...r, template: template.name, page: meta };
  }

  text(req: TextTransformInput, call: ModelCall): Promise<TextTransformResult> {
    return transformText(this.opts.gateway, req, call);
  }

  chat(req: ChatTransformInput, call: ModelCall): Promise<ChatTransformResult> {
    return transformChat(this.opts.gateway, req, call, { temperature: this.opts.temperature });
  }
}
