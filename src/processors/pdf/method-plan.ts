import { SecretaryError } from '../../core/errors.js';
import type { MistralMethod, PdfMethod } from './types.js';
import { isMistralMethod, isPdfMethod } from './types.js';

/** What a method needs per page. */
export interface MethodPlan {
  native: boolean;
  ocr: boolean;
  llm: boolean;
  preview: boolean;
}

const PLANS: Record<Exclude<PdfMethod, MistralMethod>, MethodPlan> = {
  native: { native: true, ocr: false, llm: false, preview: false },
  ocr: { native: false, ocr: true, llm: false, preview: false },
  tesseract_ocr: { native: false, ocr: true, llm: false, preview: false },
  both: { native: true, ocr: true, llm: false, preview: false },
  preview: { native: false, ocr: false, llm: false, preview: true },
  preview_and_native: { native: true, ocr: false, llm: false, preview: true },
  llm: { native: false, ocr: false, llm: true, preview: false },
  llm_and_native: { native: true, ocr: false, llm: true, preview: false },
  llm_and_ocr: { native: false, ocr: true, llm: true, preview: false },
};

/**
 * Resolves a method name into a plan, or throws: `INVALID_PARAMETERS` for an unknown name or
 * a Mistral method (those go to `mistralOcrPdf`), `LLM_NOT_CONFIGURED` for an `llm*` method
 * without a vision provider.
 */
export const planMethod = (method: string, hasLlm: boolean): MethodPlan => {
  if (!isPdfMethod(method)) {
    throw new SecretaryError('INVALID_PARAMETERS', `unknown extraction method: ${method}`, {
      method,
    });
  }
  if (isMistralMethod(method)) {
    throw new SecretaryError(
      'INVALID_PARAMETERS',
      `extraction method ${method} is run by mistralOcrPdf, not extractPdf`,
      { method },
    );
  }
  const plan = PLANS[method];
  if (plan.llm && !hasLlm) {
    throw new SecretaryError(
      'LLM_NOT_CONFIGURED',
      `extraction method ${method} needs a vision LLM provider, and none is configured`,
      { method },
    );
  }
  return plan;
};

/** The text of one page as the method presents it, with the original's section headers. */
export const composePageText = (
  plan: MethodPlan,
  texts: { native: string | null; ocr: string | null; llm: string | null },
): string | null => {
  const sections: Array<[string, string]> = [];
  if (plan.native && plan.ocr) {
    sections.push(['Native Text', texts.native ?? ''], ['Tesseract OCR', texts.ocr ?? '']);
  } else if (plan.native && plan.llm) {
    sections.push(['Native Text', texts.native ?? ''], ['LLM Markdown', texts.llm ?? '']);
  } else if (plan.llm && plan.ocr) {
    sections.push(['LLM Markdown', texts.llm ?? ''], ['Tesseract OCR', texts.ocr ?? '']);
  } else {
    return texts.native ?? texts.llm ?? texts.ocr;
  }
  return sections.map(([title, text]) => `=== ${title} ===\n${text}`).join('\n\n');
};
