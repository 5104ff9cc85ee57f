/** Per-user scoping (`access_control`): which jobs and batches a principal may read or change. */
import type { AccessControl } from '../core/job.js';
import type { Principal } from './api-deps.js';

interface Owned {
  user_id: string | null;
  access_control: AccessControl;
}

export const canRead = (p: Principal, o: Owned): boolean =>
  p.admin ||
  (p.user_id !== null &&
    (o.user_id === p.user_id || o.access_control?.visibility === 'public' || !!o.access_control?.read_access?.includes(p.user_id)));

export const canWrite = (p: Principal, o: Owned): boolean =>
  p.admin ||
  (p.user_id !== null &&
    (o.user_id === p.user_id || !!o.access_control?.write_access?.includes(p.user_id) || !!o.access_control?.admin_access?.includes(p.user_id)));

/** The store filter that limits a listing to what the principal may read. */
export const visibleTo = (p: Principal): string | undefined => (p.admin ? undefined : (p.user_id ?? '\u0000nobody'));
