import { type IAMClient, type SimulatePrincipalPolicyCommandOutput, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { type Sleep, retryWithBackoff } from '../domain/concurrency';

/** The simulation's answer per resource ARN. */
export interface SimulatedDecisions {
  allowed: Map<string, string[]>;
  explicitlyDenied: Map<string, string[]>;
}

/** Resource ARNs per SimulatePrincipalPolicy call: small batches keep each response (actions × resources) short. */
export const SIMULATION_BATCH = 20;

/**
 * `iam:SimulatePrincipalPolicy` of the compromised role: which of `actions` its identity policies (and permissions
 * boundary, and the SCPs of its account) allow on each resource. Batched by resource ARNs, paged by `Marker`.
 *
 * The decision per resource is read from `ResourceSpecificResults` (IAM now returns one `EvaluationResult` per action
 * whatever the number of resources, its top-level `EvalDecision` being the most restrictive over all of them); a
 * response in the older form (one result per action and resource, `EvalResourceName` set, no per-resource list) is
 * read from the top-level fields.
 */
export class IamSimulationAdapter {
  constructor(
    private readonly client: IAMClient,
    private readonly options: { sleep?: Sleep; random?: () => number } = {},
  ) {}

  /**
   * Resource ARN → the actions allowed on it (absent: none allowed), and → the actions an identity policy, the
   * boundary or an SCP explicitly denies (`explicitDeny`: no resource policy can allow those).
   */
  async decisions(roleArn: string, actions: readonly string[], resourceArns: readonly string[]): Promise<SimulatedDecisions> {
    const allowed = new Map<string, string[]>();
    const explicitlyDenied = new Map<string, string[]>();
    const put = (into: Map<string, string[]>, resource: string, action: string) => {
      const list = into.get(resource) ?? [];
      if (!list.includes(action)) list.push(action);
      into.set(resource, list);
    };
    const add = (resource: string, action: string, decision: string | undefined) => {
      if (decision === 'allowed') put(allowed, resource, action);
      else if (decision === 'explicitDeny') put(explicitlyDenied, resource, action);
    };
    for (let i = 0; i < resourceArns.length; i += SIMULATION_BATCH) {
      const batch = resourceArns.slice(i, i + SIMULATION_BATCH);
      let marker: string | undefined;
      do {
        const page: SimulatePrincipalPolicyCommandOutput = await retryWithBackoff(
          () =>
            this.client.send(
              new SimulatePrincipalPolicyCommand({
                PolicySourceArn: roleArn,
                ActionNames: [...actions],
                ResourceArns: batch,
                ...(marker ? { Marker: marker } : {}),
              }),
            ),
          { attempts: 5, baseDelayMs: 500, maxDelayMs: 8000, ...this.options },
        );
        for (const result of page.EvaluationResults ?? []) {
          const action = result.EvalActionName;
          if (!action) continue;
          if (result.ResourceSpecificResults?.length) {
            for (const r of result.ResourceSpecificResults) {
              if (r.EvalResourceName && batch.includes(r.EvalResourceName)) add(r.EvalResourceName, action, r.EvalResourceDecision);
            }
          } else if (result.EvalResourceName && batch.includes(result.EvalResourceName)) {
            // Older form: one result per resource; `*` (no resource given) cannot be the case here.
            add(result.EvalResourceName, action, result.EvalDecision);
          }
        }
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
    }
    return { allowed, explicitlyDenied };
  }
}
