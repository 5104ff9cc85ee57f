/**
 * Field-level checks of a model's reply against the fields it was asked for: every field
 * present, and an array where the description asks for one (`descriptionExpectsArray`).
 */
import { arrayFields } from './template-prompt.js';

export interface FieldProblem {
  field: string;
  problem: string;
}

export const checkFields = (
  value: Record<string, unknown>,
  required: Record<string, string>,
): FieldProblem[] => {
  const problems: FieldProblem[] = [];
  const arrays = arrayFields(required);
  for (const name of Object.keys(required)) {
    if (!Object.prototype.hasOwnProperty.call(value, name)) {
      problems.push({ field: name, problem: 'missing' });
    } else if (arrays.has(name) && value[name] !== null && !Array.isArray(value[name])) {
      problems.push({ field: name, problem: `must be a JSON array, got ${typeof value[name]}` });
    }
  }
  return problems;
};

/** The reply with a `null` for every missing field (the filled document never shows `undefined`). */
export const withMissingAsNull = (
  value: Record<string, unknown>,
  required: Record<string, string>,
): Record<string, unknown> => {
  const out = { ...value };
  for (const name of Object.keys(required)) if (!(name in out)) out[name] = null;
  return out;
};

/** `a: missing; b: must be a JSON array` (for logs, warnings and the corrective retry). */
export const describeProblems = (problems: FieldProblem[]): string =>
  problems.map((p) => `${p.field}: ${p.problem}`).join('; ');
