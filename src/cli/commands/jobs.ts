import { parseArgs } from 'node:util';
import { commonOptions, configFrom } from '../cli-config.js';
import { createStore, storeOptionsFromConfig } from '../../store/create-store.js';
import type { Job, JobStatus } from '../../core/job.js';

const line = (j: Job): string =>
  [
    j.job_id,
    j.job_type.padEnd(12),
    j.status.padEnd(10),
    `${String(j.progress?.percent ?? 0).padStart(3)}%`,
    j.created_at,
    j.error ? `${j.error.code}: ${j.error.message}`.slice(0, 80) : '',
  ].join('  ');

/** `secretary jobs list|show`: read jobs straight from the store (no server needed). */
export const jobsCommand = async (args: string[]): Promise<number> => {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      ...commonOptions,
      status: { type: 'string' },
      type: { type: 'string' },
      batch: { type: 'string' },
      user: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (sub !== 'list' && sub !== 'show') {
    process.stderr.write(
      'usage: secretary jobs list [--status s] [--type t] [--batch b] [--limit n] [--json] | jobs show <job_id>\n',
    );
    return 2;
  }
  const store = await createStore(storeOptionsFromConfig(configFrom(values)));
  try {
    if (sub === 'show') {
      const id = positionals[0];
      if (!id) {
        process.stderr.write('usage: secretary jobs show <job_id>\n');
        return 2;
      }
      const job = (await store.getJob(id)) ?? (await store.getJobByExternalId(id));
      if (!job) {
        process.stderr.write(`no job ${id}; list jobs with \`secretary jobs list\`\n`);
        return 1;
      }
      const { webhook, ...rest2 } = job;
      const shown = {
        ...rest2,
        webhook: webhook
          ? {
              ...webhook,
              token: webhook.token ? '***' : null,
              headers: webhook.headers ? '***' : null,
            }
          : null,
      };
      process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
      return 0;
    }
    const page = await store.listJobs(
      {
        status: values.status ? (values.status.split(',') as JobStatus[]) : undefined,
        job_type: values.type,
        batch_id: values.batch,
        user_id: values.user,
      },
      { limit: values.limit ? Number(values.limit) : 20, cursor: values.cursor ?? null },
    );
    if (values.json) process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
    else {
      for (const j of page.items) process.stdout.write(`${line(j)}\n`);
      if (page.items.length === 0) process.stderr.write('no jobs match\n');
      if (page.next_cursor) process.stderr.write(`more: --cursor ${page.next_cursor}\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
};
