import type { Target } from '../domain/types';
import { type ClientScope, ownClients } from './aws-clients';
import { type ResponderWorkflow, workloadClientsFor } from './responder-credentials';

/** How the target-side adapters get their clients: a given scope (tests, the CLI), or the case whose session to use. */
export type ClientSource = ClientScope | { caseId: string };

const isScope = (via: ClientSource): via is ClientScope => typeof (via as ClientScope).client === 'function';

/**
 * The client scope for the target's account: with a case id, the responder role's session in the target's account
 * (session name = case id; see responder-credentials.ts), or the Lambda's own credentials in single-account mode
 * without a responder role. A scope passed explicitly is used as it is; none at all means the Lambda's own.
 */
export function scopeFor(target: Target, via?: ClientSource, workflow: ResponderWorkflow = 'acquisition'): ClientScope {
  if (via === undefined) return ownClients();
  return isScope(via) ? via : workloadClientsFor(target, via.caseId, undefined, undefined, workflow);
}
