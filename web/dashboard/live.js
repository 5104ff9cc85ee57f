// The live connection: one EventSource on `api/events` for the whole page. After every
// (re)connect the server sends `ready`; the page then reloads what it shows, because changes
// made while it was disconnected are not replayed.
import { eventsUrl } from './api.js';

/**
 * handlers: onJob(change), onBatch(change), onReady(), onResync() (too many changes at once:
 * reload), onState('connecting'|'live'|'reconnecting'|'down', detail),
 * probe(): an API call whose failure tells why the stream was refused (a 401 signs the user out).
 */
export const createLive = (handlers) => {
  let es = null;
  let timer = null;
  let delay = 1000;
  let running = false;

  const parse = (e) => {
    try {
      return JSON.parse(e.data);
    } catch {
      return null;
    }
  };

  const connect = () => {
    timer = null;
    if (!running) return;
    handlers.onState('connecting');
    es = new EventSource(eventsUrl());
    es.addEventListener('ready', () => {
      delay = 1000;
      handlers.onState('live');
      handlers.onReady();
    });
    es.addEventListener('job', (e) => {
      const c = parse(e);
      if (c) handlers.onJob(c);
    });
    es.addEventListener('resync', () => handlers.onResync());
    es.addEventListener('batch', (e) => {
      const c = parse(e);
      if (c) handlers.onBatch(c);
    });
    es.addEventListener('error', () => {
      if (!es || es.readyState !== EventSource.CLOSED) {
        handlers.onState('reconnecting');
        return;
      }
      // the server refused the stream (not a dropped connection): find out why, retry later
      es = null;
      handlers
        .probe()
        .then(() => {
          if (!running) return;
          handlers.onState('down', `live updates stopped; retrying in ${Math.round(delay / 1000)} s`);
          timer = setTimeout(connect, delay);
          delay = Math.min(30_000, delay * 2);
        })
        .catch((err) => {
          if (!running) return;
          handlers.onState('down', `${err.message}. ${err.hint ?? ''}`);
          if (err.status !== 401) {
            timer = setTimeout(connect, delay);
            delay = Math.min(30_000, delay * 2);
          }
        });
    });
  };

  return {
    start() {
      if (running) return;
      running = true;
      delay = 1000;
      connect();
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      es?.close();
      es = null;
    },
  };
};
