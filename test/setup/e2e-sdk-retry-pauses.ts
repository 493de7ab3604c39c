import { createRequire } from 'node:module';

/**
 * e2e setup: the AWS SDK's retry pauses, 50 times shorter — the same retries, in milliseconds instead of seconds.
 *
 * Why: on the emulator, every acquisition meets calls moto does not implement (EC2 LockSnapshot, CloudTrail
 * LookupEvents, IAM SimulatePrincipalPolicy answer HTTP 500), and the fault-injection tests throttle calls on purpose.
 * The SDK retries each as it would on AWS, pausing a jittered 0–50 then 0–100 ms (0–1 then 0–2 s for throttling) of
 * real time before each attempt: about two seconds of sleep per acquisition, and over twenty for the throttling test,
 * that prove nothing more than the retries themselves. Which errors are retried, how many attempts and what the caller finally gets are untouched
 * (the SDK's own StandardRetryStrategy still decides): only the base of the jittered backoff is scaled, as the local
 * runner already shortens Wait states and state-level Retry intervals (cli/local/local-runner.ts).
 *
 * `Retry` is the SDK's own switchboard for these bases (@smithy/core, read at each retry and by each new retry
 * strategy); it is taken from where the SDK clients load it, so it is the very instance the clients use.
 */
const SCALE = 50;

interface RetryBases {
  delay(): number;
  throttlingDelay(): number;
}

const fromClients = createRequire(createRequire(import.meta.url).resolve('@aws-sdk/client-ec2'));
const { Retry } = fromClients('@smithy/core/retry') as { Retry: RetryBases };
const marker = Symbol.for('forensics.e2e.sdkRetryPausesScaled');
const bases = Retry as RetryBases & { [marker]?: true };
if (!bases[marker]) {
  const delay = bases.delay();
  const throttlingDelay = bases.throttlingDelay();
  bases.delay = () => Math.max(1, Math.round(delay / SCALE));
  bases.throttlingDelay = () => Math.max(1, Math.round(throttlingDelay / SCALE));
  bases[marker] = true;
}
