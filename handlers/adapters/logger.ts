import { Logger, type LogItem, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import type { Log } from '../domain/ports';

/**
 * The one logger of every handler: Powertools for AWS Lambda's Logger, so every line is one JSON object with
 * `level`, `message`, `timestamp`, `service` and the keys of its invocation, written at its level's console method.
 * That matters twice in Lambda: with the JSON log format, log-level filtering and CloudWatch read the `level` Powertools
 * writes; and an ERROR goes to stderr, not stdout. The Lambda's advanced logging level (AWS_LAMBDA_LOG_LEVEL) is
 * honoured by Powertools itself.
 *
 * Every line of an invocation carries its case id: `caseLog(caseId)` is a child logger with the case id as a
 * persistent key. A child per invocation (not keys appended to one shared logger) because the local runner and the
 * benchmark run many executions at once in one process, where appended keys would leak from one case to another.
 *
 * Where lines go: in Lambda, Powertools' own console on the process's stdout and stderr (not the runtime's patched
 * `console`, which would wrap each JSON line in another). `logThroughConsole()` (the local runner) sends them through
 * the global `console` methods instead, which the runner points at stderr or silence, so stdout keeps carrying the
 * run-local result alone.
 */
let throughConsole = false;

/** Lines go through `console.debug/info/warn/error` from now on (local runner; tests may switch back). */
export function logThroughConsole(enabled = true): void {
  throughConsole = enabled;
}

const METHOD_BY_LEVEL: [number, 'error' | 'warn' | 'info' | 'debug'][] = [
  [LogLevelThreshold.ERROR, 'error'],
  [LogLevelThreshold.WARN, 'warn'],
  [LogLevelThreshold.INFO, 'info'],
];

class HandlerLogger extends Logger {
  protected override printLog(logLevel: number, log: LogItem): void {
    if (!throughConsole) {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    const method = METHOD_BY_LEVEL.find(([threshold]) => logLevel >= threshold)?.[1] ?? 'debug';
    console[method](JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }

  protected override createLogger(options?: ConstructorParameters<typeof Logger>[0]): Logger {
    return new HandlerLogger(options);
  }
}

export const logger: Logger = new HandlerLogger({ serviceName: 'forensic-acquisition' });

/** The log of one invocation: every line carries `caseId` (when known) and `step`. */
export function caseLog(caseId: string | undefined, step: string): Log {
  const child = logger.createChild({ persistentKeys: { step, ...(caseId ? { caseId } : {}) } });
  return ({ level, message, ...detail }) => child[level](message, detail);
}
