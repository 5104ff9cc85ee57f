/**
 * Cost of one provider call from the price table in `llm.providers.<name>.models` (USD per 1M
 * tokens, per 1,000 OCR pages, per audio minute). A model without a price, or a call that uses
 * a quantity the model has no price for, costs `null`: unknown, never a silent 0.
 */
import type { LlmModelPrice } from '../../config/defaults.js';

type PriceTable = Record<string, LlmModelPrice>;

/** Exact name first, then the longest configured name the model starts with (`gpt-4o-2024-08-06` → `gpt-4o`). */
export const priceOf = (table: PriceTable, model: string): LlmModelPrice | null => {
  if (table[model]) return table[model]!;
  let best: string | null = null;
  for (const name of Object.keys(table)) {
    if (model.startsWith(`${name}-`) && (!best || name.length > best.length)) best = name;
  }
  return best ? table[best]! : null;
};

const part = (
  quantity: number,
  unitPrice: number | null | undefined,
  per: number,
): number | null => {
  if (quantity <= 0) return 0;
  if (unitPrice === null || unitPrice === undefined) return null;
  return (quantity / per) * unitPrice;
};

const sum = (parts: Array<number | null>): number | null =>
  parts.some((p) => p === null)
    ? null
    : Math.round((parts as number[]).reduce((a, b) => a + b, 0) * 1e8) / 1e8;

export const tokenCost = (
  price: LlmModelPrice | null,
  promptTokens: number,
  completionTokens: number,
): number | null =>
  price
    ? sum([part(promptTokens, price.input, 1e6), part(completionTokens, price.output, 1e6)])
    : null;

export const pageCost = (price: LlmModelPrice | null, pages: number): number | null =>
  price ? sum([part(pages, price.per_1k_pages, 1000)]) : null;

/** Audio priced per minute; models priced by tokens (some transcription models) use the token usage. */
export const audioCost = (
  price: LlmModelPrice | null,
  seconds: number | null,
  promptTokens = 0,
  completionTokens = 0,
): number | null => {
  if (!price) return null;
  if (price.per_minute !== null && price.per_minute !== undefined)
    return seconds === null ? null : sum([part(seconds, price.per_minute, 60)]);
  return promptTokens + completionTokens > 0
    ? tokenCost(price, promptTokens, completionTokens)
    : null;
};
