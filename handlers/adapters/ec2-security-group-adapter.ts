import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type Filter,
  type IpPermission,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { errorName } from '../domain/errors';

/** This product's isolation and transition security groups, and moving network interfaces into them. */

/** A rule reduced to what isolation cares about: protocol and the CIDRs it opens, per direction. */
export interface RuleSummary {
  protocol: string;
  fromPort?: number;
  toPort?: number;
  ipv4: string[];
  ipv6: string[];
  /** Anything else the rule opens (other groups, prefix lists): never expected on our groups. */
  other: number;
}

export interface GroupDescription {
  groupId: string;
  groupName: string;
  vpcId: string;
  tags: Record<string, string>;
  ingress: RuleSummary[];
  egress: RuleSummary[];
  /** The raw permissions, so they can be revoked exactly as they are. */
  rawIngress: IpPermission[];
  rawEgress: IpPermission[];
}

function summarize(p: IpPermission): RuleSummary {
  return {
    protocol: p.IpProtocol ?? '',
    ...(p.FromPort !== undefined ? { fromPort: p.FromPort } : {}),
    ...(p.ToPort !== undefined ? { toPort: p.ToPort } : {}),
    ipv4: (p.IpRanges ?? []).map((r) => r.CidrIp ?? ''),
    ipv6: (p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6 ?? ''),
    other: (p.UserIdGroupPairs?.length ?? 0) + (p.PrefixListIds?.length ?? 0),
  };
}

function toDescription(g: SecurityGroup): GroupDescription {
  const tags: Record<string, string> = {};
  for (const t of g.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  return {
    groupId: g.GroupId ?? '',
    groupName: g.GroupName ?? '',
    vpcId: g.VpcId ?? '',
    tags,
    ingress: (g.IpPermissions ?? []).map(summarize),
    egress: (g.IpPermissionsEgress ?? []).map(summarize),
    rawIngress: g.IpPermissions ?? [],
    rawEgress: g.IpPermissionsEgress ?? [],
  };
}

/** All protocols, all ports, from/to anywhere over IPv4 and IPv6. */
const ALL_TRAFFIC_V4: IpPermission = { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] };
const ALL_TRAFFIC_V6: IpPermission = { IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] };

/** Error names meaning "this rule is already there" / "this rule is already gone": the goal state holds. */
const RULE_ALREADY_PRESENT = 'InvalidPermission.Duplicate';
const RULE_ALREADY_ABSENT = 'InvalidPermission.NotFound';

export class Ec2SecurityGroupAdapter {
  constructor(private readonly ec2: EC2Client) {}

  /** Groups tagged `<tagKey>` = isolation or transition, in every VPC of the region. */
  async findByRole(roleTagKey: string, vpcIds?: string[]): Promise<GroupDescription[]> {
    const filters: Filter[] = [{ Name: `tag:${roleTagKey}`, Values: ['isolation', 'transition'] }];
    if (vpcIds?.length) filters.push({ Name: 'vpc-id', Values: vpcIds });
    return this.describe(filters);
  }

  async findByName(vpcId: string, groupName: string): Promise<GroupDescription | undefined> {
    const found = await this.describe([
      { Name: 'vpc-id', Values: [vpcId] },
      { Name: 'group-name', Values: [groupName] },
    ]);
    return found[0];
  }

  private async describe(filters: Filter[]): Promise<GroupDescription[]> {
    const groups: GroupDescription[] = [];
    let token: string | undefined;
    do {
      const out = await this.ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: filters, ...(token ? { NextToken: token } : {}) }),
      );
      groups.push(...(out.SecurityGroups ?? []).map(toDescription));
      token = out.NextToken;
    } while (token);
    return groups;
  }

  /**
   * Creates a tagged group. Returns `undefined` when a group of that name already exists in the VPC
   * (`InvalidGroup.Duplicate`: another case created it first), so the caller can look it up and reuse it.
   */
  async create(input: {
    vpcId: string;
    groupName: string;
    description: string;
    tags: Record<string, string>;
  }): Promise<string | undefined> {
    try {
      const out = await this.ec2.send(
        new CreateSecurityGroupCommand({
          VpcId: input.vpcId,
          GroupName: input.groupName,
          Description: input.description,
          TagSpecifications: [
            {
              ResourceType: 'security-group',
              Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
            },
          ],
        }),
      );
      if (!out.GroupId) throw new Error(`CreateSecurityGroup ${input.groupName} returned no group id`);
      return out.GroupId;
    } catch (err) {
      if (errorName(err) === 'InvalidGroup.Duplicate') return undefined;
      throw err;
    }
  }

  /**
   * Opens all traffic in both directions over IPv4 and IPv6. Rules already present are fine (a new group already
   * has the IPv4 all-traffic egress rule; a racing case may have added the rest).
   */
  async allowAllTraffic(groupId: string, existing?: { ingress: RuleSummary[]; egress: RuleSummary[] }): Promise<void> {
    const missing = (rules: RuleSummary[] | undefined): IpPermission[] =>
      [ALL_TRAFFIC_V4, ALL_TRAFFIC_V6].filter(
        (p) =>
          !rules?.some(
            (r) =>
              r.protocol === '-1' &&
              (p.IpRanges ? r.ipv4.includes('0.0.0.0/0') : r.ipv6.includes('::/0')),
          ),
      );
    const ingress = missing(existing?.ingress);
    // A brand-new group already carries the default IPv4 all-traffic egress rule.
    const egress = existing ? missing(existing.egress) : [ALL_TRAFFIC_V6];
    const ignoreDuplicate = (err: unknown) => {
      if (errorName(err) !== RULE_ALREADY_PRESENT) throw err;
    };
    await Promise.all([
      ingress.length
        ? this.ec2
            .send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: ingress }))
            .then(() => undefined, ignoreDuplicate)
        : undefined,
      egress.length
        ? this.ec2
            .send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: egress }))
            .then(() => undefined, ignoreDuplicate)
        : undefined,
    ]);
  }

  /**
   * Removes every rule so the group allows nothing. Without `existing`, the group is new and only has the default
   * IPv4 all-traffic egress rule.
   */
  async removeAllRules(groupId: string, existing?: { rawIngress: IpPermission[]; rawEgress: IpPermission[] }): Promise<void> {
    const ingress = existing?.rawIngress ?? [];
    const egress = existing ? existing.rawEgress : [ALL_TRAFFIC_V4];
    const ignoreAbsent = (err: unknown) => {
      if (errorName(err) !== RULE_ALREADY_ABSENT) throw err;
    };
    await Promise.all([
      ingress.length
        ? this.ec2
            .send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: ingress }))
            .then(() => undefined, ignoreAbsent)
        : undefined,
      egress.length
        ? this.ec2
            .send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: egress }))
            .then(() => undefined, ignoreAbsent)
        : undefined,
    ]);
  }

  /**
   * Makes a group's rules EXACTLY: no inbound, egress only TCP `port` to each of `targetGroupIds` (the acquisition
   * channel: the VPC's SSM endpoint groups). Every other rule is revoked, the default all-traffic egress rule of a
   * new group included (`existing` undefined = a new group). Returns what was revoked and authorised.
   */
  async setEgressOnlyToGroups(
    groupId: string,
    port: number,
    targetGroupIds: string[],
    existing?: { rawIngress: IpPermission[]; rawEgress: IpPermission[] },
  ): Promise<{ revokedIngress: number; revokedEgress: number; authorized: string[] }> {
    const wanted = new Set(targetGroupIds);
    const rawEgress = existing ? existing.rawEgress : [ALL_TRAFFIC_V4];
    const keep = new Set<string>();
    const revokeEgress: IpPermission[] = [];
    for (const p of rawEgress) {
      const exactPort = p.IpProtocol === 'tcp' && p.FromPort === port && p.ToPort === port;
      const onlyGroups = !p.IpRanges?.length && !p.Ipv6Ranges?.length && !p.PrefixListIds?.length;
      const pairs = p.UserIdGroupPairs ?? [];
      if (exactPort && onlyGroups) {
        const stray = pairs.filter((g) => !g.GroupId || !wanted.has(g.GroupId));
        for (const g of pairs) if (g.GroupId && wanted.has(g.GroupId)) keep.add(g.GroupId);
        if (stray.length > 0) {
          revokeEgress.push({ IpProtocol: 'tcp', FromPort: port, ToPort: port, UserIdGroupPairs: stray.map((g) => ({ GroupId: g.GroupId })) });
        }
      } else {
        revokeEgress.push(p);
      }
    }
    const authorize = targetGroupIds.filter((g) => !keep.has(g));
    const ignoreAbsent = (err: unknown) => {
      if (errorName(err) !== RULE_ALREADY_ABSENT) throw err;
    };
    const ignoreDuplicate = (err: unknown) => {
      if (errorName(err) !== RULE_ALREADY_PRESENT) throw err;
    };
    const ingress = existing?.rawIngress ?? [];
    await Promise.all([
      ingress.length
        ? this.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: ingress })).then(() => undefined, ignoreAbsent)
        : undefined,
      revokeEgress.length
        ? this.ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: revokeEgress })).then(() => undefined, ignoreAbsent)
        : undefined,
      authorize.length
        ? this.ec2
            .send(
              new AuthorizeSecurityGroupEgressCommand({
                GroupId: groupId,
                IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, UserIdGroupPairs: authorize.map((g) => ({ GroupId: g })) }],
              }),
            )
            .then(() => undefined, ignoreDuplicate)
        : undefined,
    ]);
    return { revokedIngress: ingress.length, revokedEgress: revokeEgress.length, authorized: authorize };
  }

  /** Replaces every security group of a network interface with `groupIds`. */
  async setInterfaceGroups(networkInterfaceId: string, groupIds: string[]): Promise<void> {
    await this.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: networkInterfaceId, Groups: groupIds }),
    );
  }
}
