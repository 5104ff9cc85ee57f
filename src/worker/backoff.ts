/** Exponential backoff with jitter: base * 2^(attempt-1), capped, times a random 50–100 %. */
export const backoffMs = (attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number => {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.5 + random() * 0.5));
};
