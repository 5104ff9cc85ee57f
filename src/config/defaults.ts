/**
 * Every configuration key with its default. `config/config.yaml` documents the same keys;
 * a test keeps the two in sync. Types of the defaults define what a value may be.
 */
import {
  MISTRAL_PRICES,
  OPENAI_PRICES,
  PROVIDER_DEFAULTS,
  type LlmProviderConfig,
  type LlmUseCase,
} from './llm-defaults.js';

export interface ApiKeyEntry {
  /** The secret clients send (`Authorization: Bearer <key>` or `X-Secretary-Api-Key`). */
  key: string;
  /** Jobs created with this key belong to this user; it sees only its own jobs. */
  user_id?: string | null;
  /** An admin key sees and manages every job. Default true when `user_id` is absent. */
  admin?: boolean;
}

export {
  LLM_USE_CASES,
  PROVIDER_DEFAULTS,
  type LlmModelPrice,
  type LlmProviderConfig,
  type LlmUseCase,
} from './llm-defaults.js';

/** Audio/video processing with ffmpeg and transcription (`processors.media`). */
export interface MediaConfig {
  /** ffmpeg binary: a name looked up on PATH or an absolute path. Default `ffmpeg` (Debian package `ffmpeg`). */
  ffmpeg_path: string;
  /** ffprobe binary. Default `ffprobe` (Debian package `ffmpeg`). */
  ffprobe_path: string;
  /** yt-dlp binary for `youtube` jobs. Default `yt-dlp` (looked up on PATH; absent: `MEDIA_TOOL_MISSING`). */
  yt_dlp_path: string;
  /** Extra yt-dlp arguments, e.g. `["--cookies", "/etc/secretary/cookies.txt"]`. Default none. */
  yt_dlp_args: string[];
  /** Largest accepted media file (upload, download, yt-dlp). Default 500. */
  max_file_size_mb: number;
  /** Longest accepted media in seconds (`MEDIA_TOO_LONG`). Default 15000 (about 4 h). */
  max_duration_sec: number;
  /** Audio longer than this is split into segments of about this length, cut in silences. Default 300. */
  segment_duration_sec: number;
  /** Seconds each segment starts before its cut point; the overlap is removed when joining. Default 1. */
  segment_overlap_sec: number;
  /** How far (seconds, either side) from the ideal cut point a silence is searched. Default 30. */
  silence_search_sec: number;
  /** Audio quieter than this many dB below full scale counts as silence. Default 35 (-35 dBFS). */
  silence_below_db: number;
  /** Shortest silence used as a cut point, in seconds. Default 0.4. */
  silence_min_sec: number;
  /** Segments of one job transcribed at once (the provider's `max_concurrent` still bounds all jobs). Default 4. */
  transcribe_concurrency: number;
  /** Download timeout for `url` inputs and yt-dlp, in seconds. Default 600. */
  download_timeout_sec: number;
}

export interface SecretaryConfig {
  server: {
    /** Default 127.0.0.1. Binding elsewhere requires an API key. */
    host: string;
    /** Default 5001 (the original's port). */
    port: number;
    /** Absolute base URL used in webhook payloads (e.g. `https://secretary.example.org`); null: relative URLs. */
    public_base_url: string | null;
    /** JSON body limit in MB. Default 10. */
    body_limit_mb: number;
    /** Upload limit in MB (multipart). Default 100 (the original's MAX_UPLOAD_SIZE_MB). */
    upload_limit_mb: number;
    /**
     * Empty upload files kept ready (created while no upload arrives), so a burst of uploads
     * does not create files while it is being acknowledged. Default 256; 0 turns it off.
     */
    upload_reserve: number;
    /** Answer with the job result when it finishes within this many ms (`wait_ms` cap). Default 600000. */
    max_wait_ms: number;
    /** SSE heartbeat interval in seconds. Default 15. */
    sse_heartbeat_sec: number;
    /** Serve the dashboard page at `/` (its data still needs an API key). Default true. */
    dashboard: boolean;
  };
  auth: {
    /** Keys; `SECRETARY_SERVICE_API_KEY` adds one admin key. Empty: loopback-only, no auth. */
    api_keys: ApiKeyEntry[];
  };
  store: {
    /** `sqlite:<path>` (default `sqlite:data/secretary.db` under home), `postgres://…`, `mongodb://…`. */
    url: string;
    /** SQLite `synchronous`: `normal` (default, crash-safe in WAL) or `full` (power-loss-safe). */
    sqlite_synchronous: 'normal' | 'full';
    /** PostgreSQL: a direct (non-pooled) URL for LISTEN, when `url` goes through a pooler. */
    listen_url: string | null;
    /** Log entries kept per job. Default 500. */
    max_log_entries: number;
  };
  paths: {
    /** Directory holding `data/` and `cache/`. Default: the working directory (`SECRETARY_HOME`). */
    home: string;
    /** Cache root (uploads, PDF work dirs, archives). Default `<home>/cache`. */
    cache_dir: string;
    /** Local roots from which `file_path`/`filename` parameters may read. Default: the cache root. */
    allowed_input_roots: string[];
  };
  generic_worker: {
    /** Run a worker in this process. Default true. */
    active: boolean;
    /** Jobs running at once in this process. Default 3 (the original's). */
    max_concurrent: number;
    /** Fallback polling interval; pickup is push-driven where the store can. Default 2. */
    poll_interval_sec: number;
    /** Per-type limit in this process, e.g. `{pdf: 2}`. */
    max_concurrent_per_type: Record<string, number>;
    /** Per-type limit across all workers of the store, e.g. `{mistral_ocr: 2}`. */
    cluster_max_concurrent_per_type: Record<string, number>;
    /** Lease length in seconds; renewed every `heartbeat_sec`. Default 30. */
    lease_sec: number;
    /** Default 10. */
    heartbeat_sec: number;
    /** How often expired leases are reaped. Default 10. */
    reaper_interval_sec: number;
    /** Graceful shutdown: wait this long for running jobs, then hand them back. Default 25. */
    shutdown_grace_sec: number;
    /** Default handler time limit in seconds. Default 3600. */
    timeout_sec: number;
    /** Per-type time limits, e.g. `{pdf: 1800}`. */
    timeout_sec_per_type: Record<string, number>;
    /** Attempts per job (first run included). Default 3. */
    max_attempts: number;
    /**
     * During a burst of job submissions to this process (8 or more in flight, or arriving within
     * 100 ms), new jobs wait up to this long before they start, so the burst is acknowledged
     * first. 0: off. Default 1000.
     */
    ingress_priority_ms: number;
    /** Exponential backoff: base * 2^(attempt-1), with jitter, capped. Defaults 2 s and 600 s. */
    backoff_base_sec: number;
    backoff_max_sec: number;
  };
  retention: {
    /** Finished jobs (and their uploads/work dirs) older than this are removed. 0 disables. Default 30. */
    days: number;
    /** Default 60. */
    interval_min: number;
  };
  webhooks: {
    /** Per-callback timeout in seconds (the real client holds `completed` open for minutes). Default 600. */
    timeout_sec: number;
    /** Callbacks sent at once across all jobs. Default 16. */
    concurrency: number;
    /** Retries when a callback could not be delivered at all. Default 8. */
    max_retries: number;
    /** Progress callbacks at most every this many ms per job. Default 1000. */
    progress_interval_ms: number;
    /** HMAC-SHA256 secret for `X-Secretary-Signature`; null: no signature. */
    signing_secret: string | null;
  };
  security: {
    /** Allow webhooks and downloads to private, loopback and link-local addresses. Default false. */
    allow_private_urls: boolean;
    /** Hosts or CIDRs allowed even though private (e.g. `10.0.0.0/8`, `cks.internal`). */
    url_allowlist: string[];
  };
  processors: {
    pdf: {
      max_pages: number;
      max_file_size_mb: number;
      download_timeout_sec: number;
      /** DPI of the page images sent to the vision model (`llm*` methods; then fit into 2048 px, JPEG q85). Default 300. */
      vision_dpi: number;
      /** Mistral OCR (`mistral_ocr*` methods): how a document is cut into requests the API accepts. */
      mistral: {
        /** Most pages per OCR request; longer ranges are split into chunks that run concurrently. Default 50. */
        max_pages_per_request: number;
        /** Largest upload per OCR request in MB (Mistral's limit is 50); bigger chunks are halved. Default 50. */
        max_request_mb: number;
        /** Extra attempts of a chunk whose answer does not fit the pages asked for. Default 1. */
        chunk_retries: number;
      };
    };
    imageocr: { max_file_size_mb: number; max_side_px: number };
    office: {
      /** LibreOffice binary: a name looked up on PATH or a path. Default `soffice`. */
      soffice_path: string;
      /** One LibreOffice conversion's time limit (`PROCESSING_TIMEOUT`). Default 180. */
      soffice_timeout_sec: number;
      /** LibreOffice conversions at once in this process (each takes a core and ~150 MB). Default 2. */
      max_concurrent_conversions: number;
      /** Largest office document accepted, in MB (`FILE_TOO_LARGE`). Default 100. */
      max_file_size_mb: number;
      /** Rows below the header rendered per XLSX sheet; the rest is counted, not shown. Default 10000. */
      max_sheet_rows: number;
      /** Pages/slides rendered as previews. Default 50. */
      max_preview_pages: number;
    };
    /** Template files (`<Name>.md`, `<Name>_<lang>.md`). `dir` null: `<home>/templates` when it exists, else the bundled `templates/`. */
    templates: { dir: string | null };
    /** Web pages fetched for templates (URL mode). Defaults 30 s and 10 MB. */
    web: { timeout_sec: number; max_size_mb: number };
    /** `response_format` of template calls on `json_mode` providers: `json_schema` (default) or `json_object` (servers without structured outputs). */
    transformer: { response_format: 'json_schema' | 'json_object' };
    /** The session pipeline (`session` and `event_summary` jobs; docs/sessions.md). */
    session: {
      /** Root of the `sessions/<event>/<lang>/<track>/<file>.md` tree; relative to home. Null: `<home>/sessions`. */
      base_dir: string | null;
      /** `pdf` method for the attachments PDF. Null: `preview_and_mistral_ocr` when the `ocr` use case is configured (and the method exists), else `preview_and_native`. */
      attachments_method: string | null;
      /** Largest archive (MB) that `POST /api/session/process` inlines as base64 `archive_data`; larger ones only by `archive_url`. Default 10. */
      inline_archive_max_mb: number;
    };
    /** CPU worker threads for rendering/OCR. 0: one per core minus one (at least 1). */
    cpu_threads: number;
    /** Audio, video and YouTube transcription (`docs/transcription.md`). */
    media: MediaConfig;
  };
  llm: {
    /**
     * Model providers by name. `kind: openai` speaks the OpenAI HTTP API (OpenAI, OpenRouter,
     * Ollama, vLLM, LocalAI); `kind: mistral` speaks Mistral's (chat, files, OCR). Keys come only
     * from the environment variable named by `api_key_env`; the file cannot hold them.
     */
    providers: Record<string, LlmProviderConfig>;
    /** Which provider and model each use case takes; a request may override both (`provider`, `model`). */
    use_cases: Record<LlmUseCase, { provider: string; model: string }>;
    /** Default sampling temperature of template and text transformations. Default 0.1. */
    temperature: number;
    /** Responses cached by a hash of (provider, model, messages, parameters) when a job says `use_cache`. Default true. */
    cache: boolean;
  };
  log: {
    /** pino level. Default info. */
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  };
}

export const DEFAULT_CONFIG = {
  server: {
    host: '127.0.0.1',
    port: 5001,
    public_base_url: null,
    body_limit_mb: 10,
    upload_limit_mb: 100,
    upload_reserve: 256,
    max_wait_ms: 600_000,
    sse_heartbeat_sec: 15,
    dashboard: true,
  },
  auth: { api_keys: [] },
  store: { url: '', sqlite_synchronous: 'normal', listen_url: null, max_log_entries: 500 },
  paths: { home: '', cache_dir: '', allowed_input_roots: [] },
  generic_worker: {
    active: true,
    max_concurrent: 3,
    poll_interval_sec: 2,
    max_concurrent_per_type: {},
    cluster_max_concurrent_per_type: {},
    lease_sec: 30,
    heartbeat_sec: 10,
    reaper_interval_sec: 10,
    shutdown_grace_sec: 25,
    timeout_sec: 3600,
    timeout_sec_per_type: {},
    max_attempts: 3,
    ingress_priority_ms: 1000,
    backoff_base_sec: 2,
    backoff_max_sec: 600,
  },
  retention: { days: 30, interval_min: 60 },
  webhooks: {
    timeout_sec: 600,
    concurrency: 16,
    max_retries: 8,
    progress_interval_ms: 1000,
    signing_secret: null,
  },
  security: { allow_private_urls: false, url_allowlist: [] },
  processors: {
    pdf: {
      max_pages: 500,
      max_file_size_mb: 150,
      download_timeout_sec: 120,
      vision_dpi: 300,
      mistral: { max_pages_per_request: 50, max_request_mb: 50, chunk_retries: 1 },
    },
    imageocr: { max_file_size_mb: 10, max_side_px: 4096 },
    office: {
      soffice_path: 'soffice',
      soffice_timeout_sec: 180,
      max_concurrent_conversions: 2,
      max_file_size_mb: 100,
      max_sheet_rows: 10_000,
      max_preview_pages: 50,
    },
    templates: { dir: null },
    web: { timeout_sec: 30, max_size_mb: 10 },
    transformer: { response_format: 'json_schema' },
    session: { base_dir: null, attachments_method: null, inline_archive_max_mb: 10 },
    cpu_threads: 0,
    media: {
      ffmpeg_path: 'ffmpeg',
      ffprobe_path: 'ffprobe',
      yt_dlp_path: 'yt-dlp',
      yt_dlp_args: [],
      max_file_size_mb: 500,
      max_duration_sec: 15_000,
      segment_duration_sec: 300,
      segment_overlap_sec: 1,
      silence_search_sec: 30,
      silence_below_db: 35,
      silence_min_sec: 0.4,
      transcribe_concurrency: 4,
      download_timeout_sec: 600,
    },
  },
  llm: {
    providers: {
      openai: {
        ...PROVIDER_DEFAULTS,
        kind: 'openai',
        base_url: 'https://api.openai.com/v1',
        api_key_env: 'OPENAI_API_KEY',
        models: OPENAI_PRICES,
      },
      openrouter: {
        ...PROVIDER_DEFAULTS,
        kind: 'openai',
        base_url: 'https://openrouter.ai/api/v1',
        api_key_env: 'OPENROUTER_API_KEY',
      },
      mistral: {
        ...PROVIDER_DEFAULTS,
        kind: 'mistral',
        base_url: 'https://api.mistral.ai/v1',
        api_key_env: 'MISTRAL_API_KEY',
        models: MISTRAL_PRICES,
      },
    },
    use_cases: {
      chat: { provider: 'openai', model: 'gpt-4o-mini' },
      vision: { provider: 'openai', model: 'gpt-4o' },
      transcription: { provider: 'openai', model: 'whisper-1' },
      ocr: { provider: 'mistral', model: 'mistral-ocr-latest' },
    },
    temperature: 0.1,
    cache: true,
  },
  log: { level: 'info' },
} satisfies SecretaryConfig;

/** Keys whose value is a free-form map (any key allowed, values typed by `MAP_VALUE`). */
export const MAP_KEYS: Record<string, 'number'> = {
  'generic_worker.max_concurrent_per_type': 'number',
  'generic_worker.cluster_max_concurrent_per_type': 'number',
  'generic_worker.timeout_sec_per_type': 'number',
};

/** Keys whose value may be null or a string. */
export const NULLABLE_STRING_KEYS = new Set([
  'llm.providers.*.base_url',
  'llm.providers.*.api_key_env',
  'server.public_base_url',
  'store.listen_url',
  'webhooks.signing_secret',
  'processors.templates.dir',
  'processors.session.base_dir',
  'processors.session.attachments_method',
]);

export const ENUM_KEYS: Record<string, readonly string[]> = {
  'store.sqlite_synchronous': ['normal', 'full'],
  'llm.providers.*.kind': ['openai', 'mistral'],
  'log.level': ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  'processors.transformer.response_format': ['json_schema', 'json_object'],
};
