/**
 * `secretary <command>`: serve | worker | run | jobs list|show | migrate.
 * Every error a person sees says what to do next; exit codes: 0 ok, 1 failure, 2 usage.
 */
import { ConfigError } from '../config/load-config.js';

const USAGE = `Usage: secretary <command> [options]

Commands:
  serve                 API + worker in one process (default 127.0.0.1:5001)
      --no-worker       API only (scale-out: run workers separately)
      --host <h> --port <p>
  worker                a worker process against the configured store
  run <file|url>        process one document through the queue and write the result
      --method <m> --out <dir> --type <job_type>
  transform <file.md|url> --template <Name>
                        fill a template from a text file or a web page
      [--context json] [--lang de] [--out file] [--json]
  jobs list [--status s] [--type t] [--batch b] [--limit n] [--json]
  jobs show <job_id>
  migrate               apply database migrations and exit

Common options:
  --home <dir>          directory holding data/ and cache/ (env SECRETARY_HOME; default .)
  --config <file>       config file (default <home>/config/config.yaml)
  --store <url>         sqlite:<path> | postgres://… | mongodb://…
  -h, --help
`;

const main = async (argv: string[]): Promise<number> => {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  switch (command) {
    case 'serve':
      return (await import('./commands/serve.js')).serveCommand(rest);
    case 'worker':
      return (await import('./commands/worker.js')).workerCommand(rest);
    case 'run':
      return (await import('./commands/run.js')).runCommand(rest);
    case 'transform':
      return (await import('./commands/transform.js')).transformCommand(rest);
    case 'jobs':
      return (await import('./commands/jobs.js')).jobsCommand(rest);
    case 'migrate':
      return (await import('./commands/migrate.js')).migrateCommand(rest);
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
};

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(
        `secretary: ${err.message}\nFix the key in config/config.yaml or the environment and start again.\n`,
      );
      process.exitCode = 1;
    } else if (
      err instanceof TypeError &&
      'code' in err &&
      String(err.code).startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`secretary: ${err.message}\nRun \`secretary --help\` for usage.\n`);
      process.exitCode = 2;
    } else {
      const e = err instanceof Error ? err : new Error(String(err));
      process.stderr.write(`secretary: ${e.message}\n`);
      if (process.env.SECRETARY_DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
      process.exitCode = 1;
    }
  },
);
