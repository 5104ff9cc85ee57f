/** Whisper's `verbose_json` names languages in English (`german`); clients expect ISO 639-1. */
const NAMES: Record<string, string> = {
  german: 'de',
  english: 'en',
  french: 'fr',
  spanish: 'es',
  italian: 'it',
  portuguese: 'pt',
  dutch: 'nl',
  polish: 'pl',
  russian: 'ru',
  japanese: 'ja',
  korean: 'ko',
  chinese: 'zh',
  czech: 'cs',
  danish: 'da',
  swedish: 'sv',
  norwegian: 'no',
  finnish: 'fi',
  turkish: 'tr',
  greek: 'el',
  hungarian: 'hu',
  romanian: 'ro',
  slovenian: 'sl',
  croatian: 'hr',
  ukrainian: 'uk',
  arabic: 'ar',
};

/** `german` → `de`, `de` → `de`, unknown or empty → null. */
export const normaliseLanguage = (lang: string | null | undefined): string | null => {
  if (!lang) return null;
  const l = lang.trim().toLowerCase();
  if (/^[a-z]{2}$/.test(l)) return l;
  if (/^[a-z]{2}[-_][a-z]{2}$/i.test(l)) return l.slice(0, 2);
  return NAMES[l] ?? null;
};
