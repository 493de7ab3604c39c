import {
  DeleteRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRolePolicyCommand,
  type IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';

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

/** IAM side of credential containment and release: the instance profile's role and its inline deny policies. */
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
