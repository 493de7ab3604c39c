import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DisassociateIamInstanceProfileCommand,
  type EC2Client,
  ReplaceIamInstanceProfileAssociationCommand,
} from '@aws-sdk/client-ec2';
import type { ProfileAssociation } from '../domain/types';

/**
 * EC2 side of the quarantine instance profile (containment) and of its undoing (release): the instance's current
 * profile association, and the three calls that change it. Each change returns the new association id, which is
 * what the next change needs (EC2 gives a replaced association a new id).
 */
export class Ec2InstanceProfileAdapter {
  constructor(private readonly ec2: EC2Client) {}

  /** The instance's current (associated or associating) profile association; undefined when it has none. */
  async currentAssociation(instanceId: string): Promise<ProfileAssociation | undefined> {
    const out = await this.ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }),
    );
    const current = (out.IamInstanceProfileAssociations ?? []).find(
      (a) => a.InstanceId === instanceId && (a.State === 'associated' || a.State === 'associating'),
    );
    return current?.AssociationId && current.IamInstanceProfile?.Arn
      ? { associationId: current.AssociationId, instanceProfileArn: current.IamInstanceProfile.Arn }
      : undefined;
  }

  async replace(associationId: string, instanceProfileArn: string): Promise<{ associationId: string }> {
    const out = await this.ec2.send(
      new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: associationId, IamInstanceProfile: { Arn: instanceProfileArn } }),
    );
    return { associationId: out.IamInstanceProfileAssociation?.AssociationId ?? associationId };
  }

  async associate(instanceId: string, instanceProfileArn: string): Promise<{ associationId: string }> {
    const out = await this.ec2.send(
      new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: instanceProfileArn } }),
    );
    return { associationId: out.IamInstanceProfileAssociation?.AssociationId ?? '' };
  }

  async disassociate(associationId: string): Promise<void> {
    await this.ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: associationId }));
  }
}
