/**
 * What makes a security group fit to isolate with. Pure: used by the describe step (to trust a group found by
 * tag) and by the isolate step (to repair one that a race or a person left in the wrong shape).
 */

export type IsolationRole = 'isolation' | 'transition';

/**
 * The role tag of the acquisition-channel group (memory capture): no inbound, egress only TCP 443 to the security
 * groups of the VPC's SSM interface endpoints. Named per VPC like the isolation groups.
 */
export const CHANNEL_ROLE = 'acquisition-channel';
/** The only port the acquisition channel opens (HTTPS to the SSM endpoints). */
export const CHANNEL_PORT = 443;

export interface RuleView {
  protocol: string;
  ipv4: string[];
  ipv6: string[];
  other: number;
}

export interface GroupRulesView {
  ingress: RuleView[];
  egress: RuleView[];
}

/**
 * Names are fixed per VPC so that two cases creating the group at once collide on `InvalidGroup.Duplicate`
 * instead of creating two groups; the loser reuses the winner's group.
 */
export function isolationGroupName(tagPrefix: string, role: IsolationRole | typeof CHANNEL_ROLE): string {
  return `${tagPrefix.replace(/[^A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]/g, '-')}-${role}`;
}

const opensAll = (rules: RuleView[], cidr: '0.0.0.0/0' | '::/0'): boolean =>
  rules.some((r) => r.protocol === '-1' && (cidr === '::/0' ? r.ipv6 : r.ipv4).includes(cidr));

/** The isolation group must allow nothing at all, in either direction. */
export function isRuleless(group: GroupRulesView): boolean {
  return group.ingress.length === 0 && group.egress.length === 0;
}

/**
 * The transition group must allow all traffic both ways over IPv4 and IPv6: only then are existing flows
 * untracked, so the following switch to the rule-less group cuts them.
 */
export function allowsAllTraffic(group: GroupRulesView): boolean {
  return (
    opensAll(group.ingress, '0.0.0.0/0') &&
    opensAll(group.ingress, '::/0') &&
    opensAll(group.egress, '0.0.0.0/0') &&
    opensAll(group.egress, '::/0')
  );
}

export function fitsRole(role: IsolationRole, group: GroupRulesView): boolean {
  return role === 'isolation' ? isRuleless(group) : allowsAllTraffic(group);
}
