/**
 * The one registry of error codes. Every code a client can see (in `error.code` of a job,
 * of an API answer or of a webhook) is declared here with its HTTP status and meaning.
 * `docs/errors.md` lists the same codes; a test keeps the two in sync.
 */

export const ERROR_CODES = {
  // request validation (API)
  INVALID_PARAMETERS: {
    status: 400,
    text: 'The request or job parameters failed validation; `details` lists each problem as `{path, problem}`.',
  },
  UNKNOWN_JOB_TYPE: { status: 400, text: 'No handler is registered for this `job_type`.' },
  INVALID_JSON: { status: 400, text: 'The request body is not valid JSON.' },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    text: 'The request body or upload exceeds the configured size limit.',
  },
  UNAUTHORIZED: {
    status: 401,
    text: 'Missing or invalid API key (send `Authorization: Bearer <key>` or `X-Secretary-Api-Key`).',
  },
  FORBIDDEN: {
    status: 403,
    text: 'The key may not access this resource, or the path is outside the allowed roots.',
  },
  NOT_FOUND: { status: 404, text: 'No such job, batch, route or file.' },
  CONFLICT: {
    status: 409,
    text: 'The operation does not fit the current state (e.g. retrying a running job).',
  },
  DUPLICATE_EXTERNAL_ID: {
    status: 409,
    text: 'A batch or multi-job create names an `external_id` that exists already or repeats within the request; nothing was created (a single create returns the existing job instead).',
  },
  NOT_READY: { status: 202, text: 'The job is still running; the artifact is not ready yet.' },
  NO_ARTIFACT: { status: 400, text: 'The job finished without producing this artifact.' },
  RATE_LIMITED: { status: 429, text: 'Too many requests; retry later.' },
  // job execution (worker)
  PROCESSING_TIMEOUT: { status: 500, text: 'The handler exceeded its time limit and was aborted.' },
  WORKER_LOST: {
    status: 500,
    text: 'The worker running the job stopped renewing its lease (crash or kill) and no attempts were left.',
  },
  CANCELLED: { status: 409, text: 'The job was cancelled.' },
  SHUTDOWN: {
    status: 503,
    text: 'The worker shut down while the job ran; it was handed back to the queue.',
  },
  HANDLER_ERROR: { status: 500, text: 'The handler threw an error without a more specific code.' },
  INTERNAL_ERROR: {
    status: 500,
    text: 'An unexpected server error; details are in the server log.',
  },
  STORE_ERROR: { status: 503, text: 'The database failed or is unreachable.' },
  // inputs and processing
  DOWNLOAD_FAILED: {
    status: 502,
    text: 'A URL could not be downloaded (network error, HTTP error, timeout or size cap).',
  },
  URL_NOT_FOUND: { status: 422, text: 'A URL answered 404.' },
  URL_NOT_ALLOWED: {
    status: 400,
    text: 'The URL is not http(s) or points to a private, loopback or link-local address.',
  },
  UNSUPPORTED_FILE: {
    status: 415,
    text: 'The file type is not supported by this job type (checked by magic bytes).',
  },
  FILE_NOT_FOUND: { status: 404, text: 'A local file named in the parameters does not exist.' },
  FILE_TOO_LARGE: { status: 413, text: 'The file exceeds the size limit of this job type.' },
  TOO_MANY_PAGES: { status: 422, text: 'The document has more pages than the configured limit.' },
  CORRUPT_FILE: { status: 422, text: 'The file could not be parsed (damaged or truncated).' },
  ENCRYPTED_FILE: { status: 422, text: 'The document is password-protected.' },
  IMAGE_TOO_LARGE: { status: 422, text: 'The image exceeds the maximum side length.' },
  OCR_FAILED: { status: 500, text: 'Text recognition failed.' },
  // models and providers (LLM, vision, transcription, Mistral OCR)
  LLM_NOT_CONFIGURED: {
    status: 422,
    text: 'This method needs an LLM, transcription or Mistral provider and none is configured; the message names the key or base URL to set.',
  },
  LLM_REQUEST_FAILED: {
    status: 502,
    text: 'The provider could not be reached or answered with an error (after retries); `details` carry the provider, model and HTTP status.',
  },
  LLM_RATE_LIMITED: {
    status: 429,
    text: 'The provider kept answering 429 (rate limit) after retries; the job is retried later.',
  },
  LLM_BAD_RESPONSE: {
    status: 502,
    text: 'The provider answered, but the answer is unusable (empty, malformed, wrong shape).',
  },
  // templates and transformations
  TEMPLATE_NOT_FOUND: {
    status: 404,
    text: 'No template of this name (case-insensitive, with language variants) exists in the templates directory.',
  },
  TEMPLATE_ERROR: {
    status: 400,
    text: 'The template could not be read or filled (bad frontmatter, bad placeholder, bad context).',
  },
  TEMPLATE_TRANSFORMATION_ERROR: {
    status: 502,
    text: "The model's reply could not be turned into the template's fields (not valid JSON after one repair and one retry).",
  },
  SCHEMA_VALIDATION_ERROR: {
    status: 422,
    text: "The model's reply does not match the JSON schema given in `schema_json`.",
  },
  SELECTOR_NO_MATCH: {
    status: 422,
    text: 'The `container_selector` matched no element on the fetched page.',
  },
  // media and office tools
  MEDIA_TOOL_MISSING: {
    status: 501,
    text: 'A required system tool (ffmpeg, soffice, yt-dlp) is not installed; the message names the package.',
  },
  MEDIA_TOO_LONG: {
    status: 422,
    text: 'The audio or video is longer than the configured `max_duration`.',
  },
  CONVERSION_FAILED: {
    status: 422,
    text: 'A conversion tool (ffmpeg, LibreOffice) could not convert the file; `details` carry its last output lines.',
  },
  TRANSCRIPTION_FAILED: {
    status: 502,
    text: 'Transcription produced no usable text (empty or an error marker).',
  },
  WEBHOOK_NOT_CONFIGURED: { status: 400, text: 'The job has no webhook to (re)deliver.' },
} as const satisfies Record<string, { status: number; text: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (code: string): code is ErrorCode => code in ERROR_CODES;

/** An error with a stable code; what clients see is `{code, message, details}`. */
export class SecretaryError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | null;
  readonly status: number;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown> | null) {
    super(message);
    this.name = 'SecretaryError';
    this.code = code;
    this.details = details ?? null;
    this.status = ERROR_CODES[code].status;
  }
}

/** Thrown by a handler: fail the job now, no retry. */
export class UnrecoverableError extends SecretaryError {
  constructor(
    message: string,
    code: ErrorCode = 'HANDLER_ERROR',
    details?: Record<string, unknown> | null,
  ) {
    super(code, message, details);
    this.name = 'UnrecoverableError';
  }
}

/** Thrown by a handler: try again after `delayMs` (counts as an attempt). */
export class RetryLaterError extends SecretaryError {
  readonly delayMs: number;
  constructor(message: string, delayMs: number, code: ErrorCode = 'HANDLER_ERROR') {
    super(code, message);
    this.name = 'RetryLaterError';
    this.delayMs = delayMs;
  }
}

/** Coerces anything thrown into an `Error` (a handler may throw a string, `null`, an object). */
export const coerceError = (thrown: unknown): Error => {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  if (thrown === null || thrown === undefined)
    return new Error(`non-error thrown: ${String(thrown)}`);
  try {
    return new Error(`non-error thrown: ${JSON.stringify(thrown).slice(0, 500)}`);
  } catch {
    return new Error('non-error thrown (unserialisable)');
  }
};

/** Codes that a handler failure may carry; a non-Secretary error becomes HANDLER_ERROR. */
export const toJobError = (
  err: Error,
): { code: string; message: string; details: Record<string, unknown> | null } => {
  if (err instanceof SecretaryError) {
    return { code: err.code, message: err.message || err.code, details: err.details };
  }
  return {
    code: 'HANDLER_ERROR',
    message: err.message || err.name || 'handler failed',
    details: { error_type: err.name },
  };
};
