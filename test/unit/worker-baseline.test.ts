import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { restoreWorkerBaseline } from '../support/worker-baseline';

/**
 * The unit and e2e projects run their files one after another in one worker (vitest.config.ts, `isolate: false`):
 * before each file, test/setup/file-isolation.ts puts back what the previous file may have changed. Each case leaves
 * something behind, as a test file could, and checks that the next file would not see it.
 */
describe('restoreWorkerBaseline: what the next test file in the worker starts from', () => {
  it('process.env: a variable set is removed, one changed or deleted is restored', () => {
    // Prepare
    const path = process.env.PATH;
    const home = process.env.HOME;
    process.env.FORENSICS_LEFT_BEHIND = 'x';
    process.env.PATH = '/nowhere';
    delete process.env.HOME;
    // Act
    restoreWorkerBaseline();
    // Assess
    expect(process.env.FORENSICS_LEFT_BEHIND).toBeUndefined();
    expect(process.env.PATH).toBe(path);
    expect(process.env.HOME).toBe(home);
  });

  it('the console methods (the local runner redirects them) and process.exitCode (the CLI sets it)', () => {
    // Prepare
    const log = console.log;
    const error = console.error;
    console.log = () => undefined;
    console.error = () => undefined;
    process.exitCode = 3;
    // Act
    restoreWorkerBaseline();
    // Assess
    expect(console.log).toBe(log);
    expect(console.error).toBe(error);
    expect(process.exitCode).toBeUndefined();
  });

  it('an aws-sdk-client-mock stub left on a client class is removed', () => {
    // Prepare
    const send = EC2Client.prototype.send;
    mockClient(EC2Client);
    expect(EC2Client.prototype.send).not.toBe(send);
    // Act
    restoreWorkerBaseline();
    // Assess
    expect(EC2Client.prototype.send).toBe(send);
  });

  it('fake timers are replaced by real ones', () => {
    // Prepare
    vi.useFakeTimers();
    // Act
    restoreWorkerBaseline();
    // Assess
    expect(vi.isFakeTimers()).toBe(false);
  });

  it('the project modules are evaluated anew: no module-level state carries over', async () => {
    // Prepare: the handlers' environment module, which caches what it parsed
    const before = await import('../../handlers/config/env');
    // Act
    restoreWorkerBaseline();
    // Assess
    const after = await import('../../handlers/config/env');
    expect(after.environment).not.toBe(before.environment);
  });
});
