// The SDK's Node-20 deprecation notice would print on every command; the README says to prefer Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** CLI plumbing shared by the local cloud's commands: one-line errors and a non-zero exit. */

export class UsageError extends Error {
  override name = 'USAGE';
}

/** Runs main; any failure is printed as one line `<command>: <reason>` and exits 2 (usage) or 1. */
export function runCli(command: string, main: () => Promise<number | undefined>): void {
  main()
    .then((code) => {
      process.exitCode = code ?? 0;
    })
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`${command}: ${message.split('\n')[0]}`);
      process.exitCode = error instanceof UsageError || (error as Error).name === 'CONFIG_INVALID' ? 2 : 1;
    });
}
