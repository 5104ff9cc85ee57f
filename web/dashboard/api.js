// The API client of the page: every call sends the key as `Authorization: Bearer`; the key
// lives in sessionStorage (gone when the tab closes). Errors become ApiError with a hint
// that says what to do next.

const KEY = 'secretary.apiKey';

export const getKey = () => sessionStorage.getItem(KEY) ?? '';
export const setKey = (key) => (key ? sessionStorage.setItem(KEY, key) : sessionStorage.removeItem(KEY));

const HINTS = {
  0: 'Cannot reach the server: is it running? Check the network, then reload the page.',
  400: 'The request was refused; see the message.',
  401: 'Enter a valid API key (SECRETARY_SERVICE_API_KEY or an entry of auth.api_keys).',
  403: 'This key may not do that; use the key of the job’s owner or an admin key.',
  404: 'It may have been deleted or belong to another user; reload the list.',
  409: 'The job changed meanwhile; the view was refreshed, try again if it still applies.',
  429: 'Too many requests; wait a moment and try again.',
  500: 'The server failed; its log has the details. Try again.',
  503: 'The server is restarting or shutting down; try again in a moment.',
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = HINTS[status] ?? (status >= 500 ? HINTS[500] : HINTS[400]);
  }
}

let onUnauthorized = () => {};
/** Called with the ApiError of any 401 (the key was refused or revoked). */
export const setUnauthorizedHandler = (fn) => {
  onUnauthorized = fn;
};

const headers = (extra = {}) => {
  const key = getKey();
  return { accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra };
};

const failure = async (res) => {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || 'request failed';
  try {
    const body = await res.json();
    if (body?.error?.code) code = body.error.code;
    if (body?.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  const err = new ApiError(res.status, code, message);
  if (res.status === 401) onUnauthorized(err);
  return err;
};

const send = async (path, init) => {
  try {
    return await fetch(path, { cache: 'no-store', ...init });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'the server did not answer');
  }
};

/** JSON call; resolves to the whole body (`{status, data}`), throws ApiError otherwise. */
export const api = async (path, { method = 'GET', body, signal } = {}) => {
  const init = { method, signal, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await send(path, init);
  if (!res.ok) throw await failure(res);
  return res.json();
};

/** Paths under `api/` as the page's relative URL (works behind a proxy prefix too). */
export const apiPath = (p) => p.replace(/^\//, '');

/** The live stream's URL; EventSource cannot send headers, so the key goes in the query. */
export const eventsUrl = () => {
  const key = getKey();
  return `api/events${key ? `?access_token=${encodeURIComponent(key)}` : ''}`;
};

const filenameOf = (res, fallback) => {
  const cd = res.headers.get('content-disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename="([^"]+)"/i.exec(cd);
  return plain ? plain[1] : fallback;
};

/**
 * Downloads an artifact with the key in the header (a plain link could not send it):
 * fetched into a Blob, then saved through a temporary object URL. Resolves to the file name.
 * A 202 (the job still runs) becomes an ApiError with a hint to wait.
 */
export const download = async (path, fallbackName) => {
  const res = await send(path, { headers: headers({ accept: '*/*' }) });
  if (!res.ok) throw await failure(res);
  if (res.status === 202) {
    const err = new ApiError(202, 'NOT_READY', 'the job is still running; the file is not ready yet');
    err.hint = 'Wait until the job has completed, then try again.';
    throw err;
  }
  const blob = await res.blob();
  const name = filenameOf(res, fallbackName);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name, size: blob.size };
};
