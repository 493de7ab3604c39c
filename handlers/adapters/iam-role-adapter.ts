import {
  DeleteRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
} from '@aws-sdk/client-iam';

/** IAM returns at most this many pages of names or tags here: a role has at most 50 tags; inline policies are few. */
const MAX_PAGES = 20;

/** A role of an instance profile, as credential containment needs it. */
export interface ProfileRole {
  roleName: string;
  arn: string;
  path: string;
}

const isNoSuchEntity = (err: unknown): boolean => {
  const name = (err as { name?: unknown } | undefined)?.name;
  return name === 'NoSuchEntity' || name === 'NoSuchEntityException';
};

/**
 * IAM side of credential containment and release: the instance profile's role, its inline deny policies, and the
 * containment tag that lets release delete them (infra/constructs/tag-protection.ts).
 */
export class IamRoleAdapter {
  constructor(private readonly iam: IAMClient) {}

  /** The roles of an instance profile (AWS allows at most one); undefined when the profile does not exist. */
  async rolesOfInstanceProfile(instanceProfileName: string): Promise<ProfileRole[] | undefined> {
    try {
      const out = await this.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: instanceProfileName }));
      return (out.InstanceProfile?.Roles ?? []).map((r) => ({ roleName: r.RoleName ?? '', arn: r.Arn ?? '', path: r.Path ?? '/' }));
    } catch (err) {
      if (isNoSuchEntity(err)) return undefined;
      throw err;
    }
  }

  /** The inline policy's document (decoded JSON text), or undefined when the role has no policy of that name. */
  async getRolePolicy(roleName: string, policyName: string): Promise<string | undefined> {
    try {
      const out = await this.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
      return decodePolicyDocument(out.PolicyDocument ?? '');
    } catch (err) {
      if (isNoSuchEntity(err)) return undefined;
      throw err;
    }
  }

  async putRolePolicy(roleName: string, policyName: string, document: string): Promise<void> {
    await this.iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: document }));
  }

  /** The value of one tag of the role, or undefined when the role does not carry it (ListRoleTags, paged). */
  async roleTag(roleName: string, key: string): Promise<string | undefined> {
    let marker: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await this.iam.send(new ListRoleTagsCommand({ RoleName: roleName, ...(marker ? { Marker: marker } : {}) }));
      const found = (out.Tags ?? []).find((t) => t.Key === key);
      if (found) return found.Value ?? '';
      if (!out.IsTruncated || !out.Marker) return undefined;
      marker = out.Marker;
    }
    throw new Error(`ListRoleTags of ${roleName}: more than ${MAX_PAGES} pages`);
  }

  /** Sets one tag (TagRole overwrites the value of an existing key). */
  async tagRole(roleName: string, key: string, value: string): Promise<void> {
    await this.iam.send(new TagRoleCommand({ RoleName: roleName, Tags: [{ Key: key, Value: value }] }));
  }

  /** Removes one tag key (no error when the role does not carry it). */
  async untagRole(roleName: string, key: string): Promise<void> {
    await this.iam.send(new UntagRoleCommand({ RoleName: roleName, TagKeys: [key] }));
  }

  /** The names of the role's inline policies (ListRolePolicies, paged). */
  async rolePolicyNames(roleName: string): Promise<string[]> {
    const names: string[] = [];
    let marker: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await this.iam.send(new ListRolePoliciesCommand({ RoleName: roleName, ...(marker ? { Marker: marker } : {}) }));
      names.push(...(out.PolicyNames ?? []));
      if (!out.IsTruncated || !out.Marker) return names;
      marker = out.Marker;
    }
    throw new Error(`ListRolePolicies of ${roleName}: more than ${MAX_PAGES} pages`);
  }

  /** Deletes an inline policy; false when it was already gone. */
  async deleteRolePolicy(roleName: string, policyName: string): Promise<boolean> {
    try {
      await this.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
      return true;
    } catch (err) {
      if (isNoSuchEntity(err)) return false;
      throw err;
    }
  }
}

/** IAM returns policy documents URL-encoded (RFC 3986); emulators sometimes do not. */
export function decodePolicyDocument(text: string): string {
  if (text.trimStart().startsWith('{')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
