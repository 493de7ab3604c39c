/**
 * `-c key=value` / `--context key=value` as the CDK CLI reads them (aws-cdk 2.1148, lib/cli/user-configuration.ts
 * `parseStringContextListToObject`), so that `run-local -c …` configures the local run exactly as `cdk synth -c …`
 * configures the template:
 * - one assignment per flag, repeatable; a later value for the same key wins;
 * - split at the first `=`: the key is what precedes it, the value is everything after it (`a=b=c` is key `a`,
 *   value `b=c`; `a=` is the empty string);
 * - every value is a string: no JSON parsing (`-c forensics:minSeverity=8` gives "8"); the settings schema
 *   (infra/config.ts) accepts the string spelling of numbers, booleans and lists, as under `cdk synth`;
 * - a key starting with `aws:` is refused (reserved for the CDK);
 * - an argument without `=` is not an assignment: the CDK warns and ignores it, and so does this.
 * Context from the command line takes precedence over cdk.json's (infra/app.ts `buildApp`).
 */

export class ContextArgumentError extends Error {
  override readonly name = 'ContextArgumentError';
}

export function parseContextArguments(assignments: readonly string[], warn: (message: string) => void = () => undefined): Record<string, string> {
  const context: Record<string, string> = {};
  for (const assignment of assignments) {
    // The CDK's own split: a regular expression with a capture group and a limit of 2.
    const parts = assignment.split(/=(.*)/, 2);
    if (parts.length === 2) {
      const [key = '', value = ''] = parts;
      if (/^aws:.+/.test(key)) {
        throw new ContextArgumentError(`-c ${key}: user-provided context cannot use keys prefixed with 'aws:'`);
      }
      context[key] = value;
    } else {
      warn(`context argument is not an assignment (key=value): ${assignment}`);
    }
  }
  return context;
}

/** Commander's collector for a repeatable option. */
export function collect(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}
