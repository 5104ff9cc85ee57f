/** SIGTERM/SIGINT: stop claiming, drain within the grace period, hand the rest back, exit. */
export const onShutdownSignal = (shutdown: (signal: string) => Promise<void>): void => {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(
        `secretary: ${signal} again — exiting now; unfinished jobs return after their lease expires\n`,
      );
      process.exit(130);
    }
    stopping = true;
    void shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`secretary: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
};
