#!/usr/bin/env tsx
import { ensureMotoServer, locateMotoServer } from './local/moto-install';

/**
 * `npm run setup:emulator`: finds moto_server (PATH, then .venv-moto) or installs the pinned moto into .venv-moto;
 * prints where it is. Exit 1 with the exact command to run when it can do neither (cli/local/moto-install.ts).
 */
try {
  const path = await ensureMotoServer();
  process.stdout.write(`moto_server: ${path} (${locateMotoServer()?.source ?? 'installed'})\n`);
} catch (err) {
  process.stderr.write(`setup:emulator: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
