/**
 * Parameters of the `audio`, `video` and `youtube` job types (original §5.4–5.6), validated at
 * enqueue, and the file extensions the upload endpoints accept (the original's lists).
 */
import Type, { type TSchema } from 'typebox';
import { parseYoutubeUrl } from '../../processors/media/index.js';
import type { ParameterProblem } from '../../worker/registry.js';

export type MediaKind = 'audio' | 'video' | 'youtube';

/** The original's audio extensions (`/api/audio/process`). */
export const AUDIO_EXTENSIONS = [
  'flac',
  'm4a',
  'mp3',
  'mp4',
  'mpeg',
  'mpga',
  'oga',
  'ogg',
  'opus',
  'wav',
  'webm',
] as const;

/** Video containers ffmpeg reads (plus every audio extension: a video endpoint may get a sound file). */
export const VIDEO_EXTENSIONS = [
  ...AUDIO_EXTENSIONS,
  'mov',
  'mkv',
  'avi',
  'm4v',
  'mpg',
  'wmv',
  'flv',
  '3gp',
  'ogv',
  'ts',
  'mts',
  'm2ts',
] as const;

/** ISO 639-1/-2 code with an optional region, or `auto`. */
export const LANGUAGE_PATTERN = '^(auto|[A-Za-z]{2,3}([-_][A-Za-z]{2})?)$';
/** A template name (the engine resolves it case-insensitively); no paths. */
export const TEMPLATE_NAME_PATTERN = '^[\\p{L}\\p{N}_][\\p{L}\\p{N}_ .()-]{0,99}$';

const nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

export const mediaParameters = Type.Object(
  {
    file_path: nullable(Type.String({ maxLength: 4096 })),
    filename: nullable(Type.String({ maxLength: 4096 })),
    url: nullable(Type.String({ maxLength: 8192 })),
    upload_path: nullable(Type.String({ maxLength: 4096 })),
    original_filename: nullable(Type.String({ maxLength: 1024 })),
    source_language: nullable(Type.String({ pattern: LANGUAGE_PATTERN })),
    target_language: nullable(Type.String({ pattern: LANGUAGE_PATTERN })),
    template: nullable(Type.String({ maxLength: 100 })),
    use_cache: nullable(Type.Boolean()),
    force_refresh: nullable(Type.Boolean()),
    context: nullable(Type.Object({}, { additionalProperties: true })),
    /** Transcription provider and model overrides (names from `llm.providers`). */
    provider: nullable(Type.String({ maxLength: 100 })),
    model: nullable(Type.String({ maxLength: 200 })),
    /** Words the model should know (names, terms); sent with every segment. */
    prompt: nullable(Type.String({ maxLength: 2000 })),
    extra: nullable(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

const templateRe = new RegExp(TEMPLATE_NAME_PATTERN, 'u');

export const validateMediaParameters =
  (kind: MediaKind) =>
  (p: Record<string, unknown>): ParameterProblem[] => {
    const extra = (p.extra ?? {}) as Record<string, unknown>;
    const get = (k: string): unknown => p[k] ?? extra[k];
    const has = (k: string) => typeof get(k) === 'string' && String(get(k)).length > 0;
    const problems: ParameterProblem[] = [];
    const url = get('url');
    if (kind === 'youtube') {
      if (typeof url !== 'string' || !url)
        problems.push({ path: '/url', problem: 'required: a YouTube video URL' });
      else if (!parseYoutubeUrl(url)) {
        problems.push({
          path: '/url',
          problem:
            'not a YouTube video URL (youtube.com/watch?v=<id>, youtu.be/<id>, youtube.com/shorts/<id>)',
        });
      }
    } else {
      if (!['file_path', 'filename', 'url', 'upload_path'].some(has)) {
        problems.push({
          path: '',
          problem: 'needs one of file_path, filename, upload_path or url',
        });
      }
      if (typeof url === 'string' && url && !/^https?:\/\//i.test(url)) {
        problems.push({ path: '/url', problem: 'must be an http(s) URL' });
      }
    }
    const template = get('template');
    if (typeof template === 'string' && template && !templateRe.test(template)) {
      problems.push({
        path: '/template',
        problem: 'must be a template name (letters, digits, space, _ . ( ) -), not a path',
      });
    }
    return problems;
  };
