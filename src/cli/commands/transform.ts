/**
 * `secretary transform <file.md|url> --template Name [--context json] [--out file] [--lang de]`:
 * fills a template from a text file or a web page through the same queue, worker and model
 * providers as the server, with a live progress line on stderr. The Markdown goes to `--out`
 * (or stdout); `--json` prints the structured data instead.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { resolveTemplatesDir } from '../../processors/templates/index.js';
import { commonOptions, configFrom } from '../cli-config.js';
import { createLogger, createRuntime } from '../runtime.js';
import { followJob, makeReporter } from './run.js';

const USAGE =
  'usage: secretary transform <file.md|url> (--template Name | --template-file file.md) [--context json] [--lang de] [--model m] [--provider p] [--out file] [--json] [--no-cache]\n';

const fail = (message: string, code = 2): number => {
  process.stderr.write(`secretary: ${message}\n`);
  return code;
};

export const transformCommand = async (args: string[]): Promise<number> => {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...commonOptions,
      template: { type: 'string', short: 't' },
      'template-file': { type: 'string' },
      context: { type: 'string' },
      lang: { type: 'string' },
      model: { type: 'string' },
      provider: { type: 'string' },
      out: { type: 'string', short: 'o' },
      json: { type: 'boolean' },
      'no-cache': { type: 'boolean' },
    },
    allowPositionals: true,
  });
  const target = positionals[0];
  if (!target || values.help || (!values.template && !values['template-file'])) {
    process.stderr.write(USAGE);
    return 2;
  }
  const isUrl = /^https?:\/\//i.test(target);
  if (!isUrl && !existsSync(target))
    return fail(`no such file: ${target}\nGive a text or Markdown file, or an http(s) URL.`, 1);
  let context: unknown;
  try {
    context = values.context ? JSON.parse(values.context) : undefined;
  } catch {
    return fail('--context must be a JSON object, e.g. --context \'{"author":"Ada"}\'');
  }
  if (
    context !== undefined &&
    (typeof context !== 'object' || context === null || Array.isArray(context))
  ) {
    return fail('--context must be a JSON object, e.g. --context \'{"author":"Ada"}\'');
  }
  const parameters: Record<string, unknown> = {
    ...(isUrl ? { url: target } : { text: await readFile(target, 'utf8') }),
    ...(values['template-file']
      ? { template_content: await readFile(values['template-file'], 'utf8') }
      : { template: values.template }),
    target_language: values.lang ?? 'de',
    use_cache: !values['no-cache'],
    ...(context ? { context } : {}),
    ...(values.model ? { model: values.model } : {}),
    ...(values.provider ? { provider: values.provider } : {}),
  };
  const config = configFrom(values, { generic_worker: { active: true } });
  const rt = await createRuntime({
    config,
    withWorker: true,
    logger: createLogger(config, { level: 'warn', stderr: true }),
  });
  const reporter = makeReporter();
  try {
    const problems = rt.registry.validate('transformer', parameters);
    if (problems.length) {
      return fail(
        `invalid options: ${problems.map((p) => `${p.path.replace('/parameters/', '')}: ${p.problem}`).join('; ')}${problems.some((p) => p.path.endsWith('/template')) ? `\nTemplates are looked up in ${resolveTemplatesDir(config.processors.templates.dir, config.paths.home)} (docs/templates.md).` : ''}`,
      );
    }
    const { job } = await rt.store.createJob({
      job_type: 'transformer',
      parameters,
      max_attempts: 2,
    });
    process.stderr.write(
      `job ${job.job_id} (transformer, ${values.template ?? values['template-file']})\n`,
    );
    const final = await followJob(rt.store, job.job_id, reporter);
    reporter.done();
    if (final.status !== 'completed') {
      process.stderr.write(
        `failed: ${final.error?.code ?? final.status}: ${final.error?.message ?? ''}\n`,
      );
      if (final.error?.code === 'LLM_NOT_CONFIGURED') {
        process.stderr.write(
          'To try it without keys: npm run fake-providers (it prints the environment to set).\n',
        );
      }
      return 1;
    }
    const r = (final.results ?? {}) as Record<string, unknown>;
    const output = values.json
      ? `${JSON.stringify(r.structured_data, null, 2)}\n`
      : `${String(r.text ?? '')}\n`;
    if (values.out) {
      await writeFile(values.out, output);
      process.stdout.write(`${values.out}\n`);
    } else process.stdout.write(output);
    const info = final.llm_info;
    const cost =
      info?.total_cost === null ? 'unknown cost' : `$${(info?.total_cost ?? 0).toFixed(6)}`;
    const warnings = (r.warnings as string[] | undefined) ?? [];
    process.stderr.write(
      `done: ${info?.requests_count ?? 0} model call(s), ${info?.total_tokens ?? 0} tokens, ${cost}${r.is_from_cache ? ' (from cache)' : ''}${warnings.length ? `; warnings: ${warnings.join('; ')}` : ''}\n`,
    );
    return 0;
  } finally {
    await rt.close();
  }
};
