export { startFakeProviders } from './fake-server.js';
export type {
  FakeProviders,
  FakeProvidersOptions,
  FakeRoute,
  Fault,
  Latency,
  RequestLogEntry,
} from './types.js';
export { FAKE_ROUTES } from './types.js';
