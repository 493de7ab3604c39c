import * as z from 'zod/mini';
import { ConfigurationError } from '../domain/errors';
import { MAX_AUTOMATIC_REDRIVES } from '../domain/redrive';

/**
 * The environment of the redrive function only (it is not an acquisition step and sees none of their settings):
 * which state machine's executions it redrives, the Record failure function it invokes when it gives up, and the
 * case table where it notes a redrive. Set by the IR stack (infra/ir-stack.ts, "Recovery").
 */
export const redriveEnvironmentSchema = z.object({
  ACQUISITION_STATE_MACHINE_ARN: z.string().check(z.regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:\s]+$/, 'a state machine ARN')),
  RECORD_FAILURE_FUNCTION_NAME: z.string().check(z.minLength(1)),
  CASE_TABLE_NAME: z.string().check(z.minLength(1)),
  /** Automatic redrives of one execution; the state machine's history budget counts exactly this many. */
  MAX_REDRIVES: z._default(z.pipe(z.coerce.number(), z.int().check(z.minimum(0), z.maximum(MAX_AUTOMATIC_REDRIVES))), MAX_AUTOMATIC_REDRIVES),
});

export type RedriveEnvironment = z.infer<typeof redriveEnvironmentSchema>;

export function redriveEnvironment(source: NodeJS.ProcessEnv = process.env): RedriveEnvironment {
  const parsed = redriveEnvironmentSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigurationError(`environment variable ${issue?.path.join('.') ?? 'environment'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
