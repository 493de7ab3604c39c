import { type IAMClient, type SimulatePrincipalPolicyCommandOutput, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { type Sleep, retryWithBackoff } from '../domain/concurrency';

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

  /** Resource ARN → the actions allowed on it (absent: none allowed). */
  async allowedActions(roleArn: string, actions: readonly string[], resourceArns: readonly string[]): Promise<Map<string, string[]>> {
    const allowed = new Map<string, string[]>();
    const add = (resource: string, action: string) => {
      const list = allowed.get(resource) ?? [];
      if (!list.includes(action)) list.push(action);
      allowed.set(resource, list);
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
              if (r.EvalResourceName && r.EvalResourceDecision === 'allowed' && batch.includes(r.EvalResourceName)) add(r.EvalResourceName, action);
            }
          } else if (result.EvalDecision === 'allowed') {
            // Older form: one result per resource; `*` (no resource given) cannot be the case here.
            if (result.EvalResourceName && batch.includes(result.EvalResourceName)) add(result.EvalResourceName, action);
          }
        }
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
    }
    return allowed;
  }
}
