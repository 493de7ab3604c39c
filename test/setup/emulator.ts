import { ensureMotoServer } from '../../cli/local/moto-install';

/**
 * Vitest global setup: the end-to-end tests start moto_server, so it is found (PATH, then .venv-moto) or installed
 * (pinned, into .venv-moto) once, before the test files run in parallel — or the run stops at once with the exact
 * command to install it (cli/local/moto-install.ts).
 */
export default async function setup(): Promise<void> {
  await ensureMotoServer({ onProgress: (line) => process.stderr.write(`${line}\n`) });
}
