import * as fs from 'node:fs';
import * as path from 'node:path';
import { Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { WorkstationEnvironment } from '../../handlers/config/workstation-env';
import { PROJECT_ROOT } from './forensic-function';

/** The user data of every workstation: mounts the evidence volumes read-only and writes the mount report. */
export const USER_DATA_SCRIPT = path.join(PROJECT_ROOT, 'infra', 'workstation', 'user-data.sh');

/** Address range of the forensic VPC: it is never peered or routed, so it may overlap anything. */
export const FORENSIC_VPC_CIDR = '10.255.0.0/22';

/** The interface endpoints the workstation needs: Session Manager, KMS, CloudWatch Logs, STS. */
export const WORKSTATION_INTERFACE_ENDPOINTS = ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs', 'sts'] as const;

/** One least-privilege statement of the workstation step's role (the IR stack applies it with its cdk-nag reason). */
export interface WorkstationPermission {
  readonly sid: string;
  readonly why: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, unknown>>;
}

export interface ForensicWorkstationProps {
  readonly evidenceKey: kms.IKey;
  readonly evidenceBucket: s3.IBucket;
  readonly tagPrefix: string;
  /** SSM parameter holding the AMI id (default: the current Amazon Linux 2023 public parameter). */
  readonly amiParameterName: string;
  readonly instanceType: string;
  /**
   * Object Lock retention of what the workstation writes to the evidence bucket (the mount report): the deployment's
   * (`forensics:objectLockMode`, `forensics:evidenceRetentionDays`), as every evidence object.
   */
  readonly retention: { readonly mode: 'COMPLIANCE' | 'GOVERNANCE'; readonly days: number };
}

/**
 * The forensic workstation's infrastructure (DESIGN.md step 10), in the IR account:
 *
 * - **Forensic VPC**: isolated subnets only (no internet gateway, no NAT gateway), interface endpoints for Session
 *   Manager (`ssm`, `ssmmessages`, `ec2messages`), `kms`, `logs` and `sts`, and an S3 gateway endpoint; every
 *   endpoint policy admits only this account's principals, the S3 one only the evidence bucket; flow logs (ALL)
 *   to a log group encrypted with the evidence key.
 * - **Security groups**: the workstation's has no ingress rule and one egress rule, HTTPS; the isolated subnets'
 *   route tables hold only the local route and the S3 gateway route, so HTTPS reaches the interface endpoints and
 *   (through the gateway endpoint, whose policy admits only the evidence bucket) S3, nothing else. The endpoints'
 *   group admits HTTPS from the workstation group only.
 * - **Instance role**: Session Manager core (AWS managed policy), read `cases/*` and write `cases/*\/analysis/*` in
 *   the evidence bucket (through S3 with the evidence key; each write with its Object Lock retention and a legal
 *   hold, as every evidence object), nothing else.
 * - **Launch template**: IMDSv2 required, hop limit 1, instance tags in metadata (the user data reads its case id
 *   from the `<prefix>:case-id` tag), no public address, no key pair, root volume encrypted with the evidence key,
 *   AMI from an SSM parameter resolved at deploy time, the user data of `infra/workstation/user-data.sh`.
 */
export class ForensicWorkstation extends Construct {
  readonly vpc: ec2.Vpc;
  readonly securityGroup: ec2.SecurityGroup;
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  readonly instanceRole: iam.Role;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly flowLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ForensicWorkstationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const bucket = props.evidenceBucket;
    const caseObjects = bucket.arnForObjects('cases/*');
    const analysisObjects = bucket.arnForObjects('cases/*/analysis/*');
    // Memory tools staged by `forensics tools build` (AVML, the capture script, TOOLS.json), read by its builder, which
    // runs from this launch template in this VPC: read-only, nothing else under tools/.
    const toolsObjects = bucket.arnForObjects('tools/*');
    const thisAccountOnly = { StringEquals: { 'aws:PrincipalAccount': stack.account } };

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.evidenceKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(FORENSIC_VPC_CIDR),
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      // No custom-resource Lambda to strip the default group: nothing is ever placed in it (the workstation and the
      // endpoints have their own groups), and the product keeps one Lambda per workflow step and no other.
      restrictDefaultSecurityGroup: false,
      gatewayEndpoints: {},
      flowLogs: {
        All: { destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup), trafficType: ec2.FlowLogTrafficType.ALL },
      },
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'WorkstationGroup', {
      vpc: this.vpc,
      description: 'Forensic workstation: no ingress; HTTPS egress to the VPC endpoints and S3 (gateway) only',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointGroup', {
      vpc: this.vpc,
      description: 'Forensic VPC interface endpoints: HTTPS from the workstation group only',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(443), 'HTTPS from the forensic workstation');
    // The S3 gateway endpoint's prefix list is regional and unknown to an environment-agnostic template; the
    // isolated route tables make 443 reach only the endpoints and S3 (gateway endpoint, policy: the evidence bucket).
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: VPC endpoints and S3 via the gateway endpoint only (no other route)');

    // ── Endpoints ──
    const s3Endpoint = this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    s3Endpoint.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EvidenceBucketOnly',
        principals: [new iam.AnyPrincipal()],
        // PutObjectRetention and PutObjectLegalHold: the mount report is written with its retention and legal hold.
        actions: ['s3:GetObject', 's3:PutObject', 's3:PutObjectRetention', 's3:PutObjectLegalHold', 's3:ListBucket'],
        resources: [bucket.bucketArn, caseObjects],
        conditions: thisAccountOnly,
      }),
    );
    s3Endpoint.addToPolicy(
      new iam.PolicyStatement({
        sid: 'MemoryToolsReadOnly',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [toolsObjects],
        conditions: thisAccountOnly,
      }),
    );
    const services: Record<(typeof WORKSTATION_INTERFACE_ENDPOINTS)[number], ec2.InterfaceVpcEndpointAwsService> = {
      ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
      ssmmessages: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
      ec2messages: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
      kms: ec2.InterfaceVpcEndpointAwsService.KMS,
      logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      sts: ec2.InterfaceVpcEndpointAwsService.STS,
    };
    for (const name of WORKSTATION_INTERFACE_ENDPOINTS) {
      const endpoint = this.vpc.addInterfaceEndpoint(pascal(name), {
        service: services[name],
        privateDnsEnabled: true,
        open: false,
        securityGroups: [this.endpointSecurityGroup],
        subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      });
      endpoint.addToPolicy(
        new iam.PolicyStatement({
          sid: name === 'kms' ? 'EvidenceKeyOnly' : 'ThisAccountOnly',
          principals: [new iam.AnyPrincipal()],
          actions: name === 'kms' ? ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'] : ['*'],
          resources: name === 'kms' ? [props.evidenceKey.keyArn] : ['*'],
          conditions: thisAccountOnly,
        }),
      );
    }

    // ── Instance role and profile ──
    this.instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Forensic workstation: Session Manager, read case evidence, write analysis results; nothing else',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    this.instanceRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadCaseEvidence',
        actions: ['s3:GetObject'],
        resources: [caseObjects],
      }),
    );
    this.instanceRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadMemoryTools',
        actions: ['s3:GetObject'],
        resources: [toolsObjects],
      }),
    );
    this.instanceRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteAnalysisResults',
        // Written like every evidence object (the bucket policy insists): once, with its own retention, under a legal
        // hold it cannot lift.
        actions: ['s3:PutObject', 's3:PutObjectLegalHold'],
        resources: [analysisObjects],
        conditions: { StringEquals: { 's3:object-lock-legal-hold': 'ON' } },
      }),
    );
    this.instanceRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RetainAnalysisResults',
        // The explicit retention each analysis object is written with (its own statement: the legal-hold condition
        // key is not documented for PutObjectRetention). The bucket policy refuses any mode but the configured one.
        actions: ['s3:PutObjectRetention'],
        resources: [analysisObjects],
      }),
    );
    this.instanceRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListCases',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': ['cases/*'] } },
      }),
    );
    this.instanceRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EvidenceKeyViaS3',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.evidenceKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
      }),
    );
    const flat = (value: string) => flatten(stack.resolve(value));
    Validations.of(this.instanceRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flat(caseObjects)}]`,
      reason:
        'ReadCaseEvidence: GetObject under cases/ of the evidence bucket only. Instance-role sessions carry no case ' +
        'tag a bucket policy could match, so the role reads every case: workstations are IR-team-only, per case, ' +
        'and terminated after the analysis.',
    });
    Validations.of(this.instanceRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flat(toolsObjects)}]`,
      reason:
        'ReadMemoryTools: GetObject under tools/ of the evidence bucket only: the memory tools (AVML, the capture ' +
        'script, TOOLS.json) that forensics tools build stages, under a per-build prefix, for its builder launched ' +
        'from this template. Public tools, no evidence; nothing under tools/ can be written by this role.',
    });
    Validations.of(this.instanceRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flat(analysisObjects)}]`,
      reason:
        'WriteAnalysisResults: PutObject (with its retention, and its legal hold, which it can only put on) only ' +
        'under cases/<caseId>/analysis/ (mount report, analysis results); the case id is only known at launch. ' +
        'Evidence objects elsewhere under cases/ cannot be written.',
    });
    Validations.of(this.instanceRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason:
        'Session Manager is the only way into the workstation: AmazonSSMManagedInstanceCore is the AWS-maintained ' +
        'minimum for the SSM agent (ssm, ssmmessages, ec2messages), kept current by AWS as the agent changes.',
    });

    // ── Launch template ──
    const userData = ec2.UserData.custom(
      [
        '#!/bin/bash',
        `# Generated by the IR stack: values of this deployment, then infra/workstation/user-data.sh.`,
        `export FORENSICS_EVIDENCE_BUCKET='${bucket.bucketName}'`,
        `export FORENSICS_TAG_PREFIX='${props.tagPrefix}'`,
        `export FORENSICS_REGION='${stack.region}'`,
        `export FORENSICS_RETENTION_MODE='${props.retention.mode}'`,
        `export FORENSICS_RETENTION_DAYS='${props.retention.days}'`,
        fs.readFileSync(USER_DATA_SCRIPT, 'utf8').replace(/^#!.*\n/, ''),
      ].join('\n'),
    );
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      launchTemplateName: `${stack.stackName}-forensic-workstation`,
      machineImage: ec2.MachineImage.fromSsmParameter(props.amiParameterName),
      instanceType: new ec2.InstanceType(props.instanceType),
      role: this.instanceRole,
      securityGroup: this.securityGroup,
      associatePublicIpAddress: false,
      requireImdsv2: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      httpPutResponseHopLimit: 1,
      httpEndpoint: true,
      instanceMetadataTags: true,
      userData,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(30, {
            encrypted: true,
            kmsKey: props.evidenceKey,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
      detailedMonitoring: true,
      disableApiTermination: false,
    });
  }

  /** The extra environment of the "Launch forensic workstation" function. */
  environment(): WorkstationEnvironment {
    return {
      WORKSTATION_SUBNET_IDS: Fn.join(',', this.vpc.isolatedSubnets.map((s) => s.subnetId)),
      WORKSTATION_SECURITY_GROUP_ID: this.securityGroup.securityGroupId,
      WORKSTATION_LAUNCH_TEMPLATE_ID: this.launchTemplate.launchTemplateId as string,
    };
  }

  /** What the workstation step's role may do (docs/permissions.md lists the same Sids). */
  launchPermissions(evidenceKeyArn: string, tagPrefix: string): WorkstationPermission[] {
    const stack = Stack.of(this);
    const ec2Arn = (resource: string, name = '*') => stack.formatArn({ service: 'ec2', resource, resourceName: name });
    const snapshots = stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' });
    const images = stack.formatArn({ service: 'ec2', account: '', resource: 'image', resourceName: '*' });
    const launchTemplateArn = ec2Arn('launch-template', this.launchTemplate.launchTemplateId as string);
    const vpcArn = ec2Arn('vpc', this.vpc.vpcId);
    const ec2Service = `ec2.${stack.region}.amazonaws.com`;
    const roleTag = `aws:ResourceTag/${tagPrefix}:role`;
    return [
      {
        sid: 'WorkstationDescribe',
        why: 'DescribeSubnets (choose the subnet and so the AZ), DescribeVolumes and DescribeInstances (find what a ' +
          'retried step created, wait for attachment): read-only, no resource-level permissions.',
        actions: ['ec2:DescribeSubnets', 'ec2:DescribeVolumes', 'ec2:DescribeInstances'],
        resources: ['*'],
      },
      {
        sid: 'WorkstationCreateVolume',
        why: `CreateVolume: only encrypted volumes created with the "${tagPrefix}:role=workstation-volume" tag.`,
        actions: ['ec2:CreateVolume'],
        resources: [ec2Arn('volume')],
        conditions: {
          StringEquals: { [`aws:RequestTag/${tagPrefix}:role`]: 'workstation-volume' },
          Bool: { 'ec2:Encrypted': 'true' },
        },
      },
      {
        sid: 'WorkstationVolumeFromEvidence',
        why: `CreateVolume is also authorised on the source snapshot: only the evidence copies ("${tagPrefix}:evidence" tag).`,
        actions: ['ec2:CreateVolume'],
        resources: [snapshots],
        conditions: { StringEquals: { [`aws:ResourceTag/${tagPrefix}:evidence`]: 'true' } },
      },
      {
        sid: 'WorkstationTagVolumesAtCreation',
        why: 'CreateVolume TagSpecifications (case, source volume and device, evidence snapshot, device).',
        actions: ['ec2:CreateTags'],
        resources: [ec2Arn('volume')],
        conditions: { StringEquals: { 'ec2:CreateAction': 'CreateVolume' } },
      },
      {
        sid: 'WorkstationRunFromTemplate',
        why: 'RunInstances of the workstation: the instance only from the forensic launch template, IMDSv2 required ' +
          'with hop limit 1 (the metadata keys exist on the instance resource only).',
        actions: ['ec2:RunInstances'],
        resources: [ec2Arn('instance')],
        conditions: {
          ArnLike: { 'ec2:LaunchTemplate': launchTemplateArn },
          StringEquals: { 'ec2:MetadataHttpTokens': 'required' },
          NumericLessThanEquals: { 'ec2:MetadataHttpPutResponseHopLimit': '1' },
        },
      },
      {
        sid: 'WorkstationRunRootVolumeAndInterface',
        why: 'RunInstances creates the root volume and the network interface: only when launching from the forensic ' +
          'launch template.',
        actions: ['ec2:RunInstances'],
        resources: [ec2Arn('volume'), ec2Arn('network-interface')],
        conditions: { ArnLike: { 'ec2:LaunchTemplate': launchTemplateArn } },
      },
      {
        sid: 'WorkstationRunInForensicVpc',
        why: 'RunInstances is also authorised on the subnet and security group: only those of the forensic VPC.',
        actions: ['ec2:RunInstances'],
        resources: [ec2Arn('subnet'), ec2Arn('security-group')],
        conditions: { ArnEquals: { 'ec2:Vpc': vpcArn } },
      },
      {
        sid: 'WorkstationRunTemplateAndImage',
        why: 'RunInstances is also authorised on the launch template (this one) and the AMI (from the configured SSM ' +
          'parameter, resolved at deploy time, so any image of the region).',
        actions: ['ec2:RunInstances'],
        resources: [launchTemplateArn, images],
      },
      {
        sid: 'WorkstationTagInstanceAtLaunch',
        why: 'RunInstances TagSpecifications: the case id the user data reads from instance metadata.',
        actions: ['ec2:CreateTags'],
        resources: [ec2Arn('instance'), ec2Arn('volume')],
        conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
      },
      {
        sid: 'WorkstationAttachVolumes',
        why: 'AttachVolume: only workstation volumes to workstation instances (both carry the role tag).',
        actions: ['ec2:AttachVolume'],
        resources: [ec2Arn('instance'), ec2Arn('volume')],
        conditions: { StringEquals: { [roleTag]: ['workstation', 'workstation-volume'] } },
      },
      {
        sid: 'WorkstationPassInstanceRole',
        why: 'RunInstances with the launch template\'s instance profile: PassRole of the workstation role, to EC2 only.',
        actions: ['iam:PassRole'],
        resources: [this.instanceRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      },
      {
        sid: 'WorkstationEvidenceKeyViaEc2',
        why: 'Volumes (and the root volume) encrypted with the evidence key: EBS uses it as the caller, through EC2 only.',
        actions: ['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
        resources: [evidenceKeyArn],
        conditions: { StringEquals: { 'kms:ViaService': ec2Service } },
      },
      {
        sid: 'WorkstationGrantEvidenceKeyToEbs',
        why: 'Attaching an encrypted volume: EBS creates a grant on the evidence key for the instance; AWS resources only.',
        actions: ['kms:CreateGrant'],
        resources: [evidenceKeyArn],
        conditions: { StringEquals: { 'kms:ViaService': ec2Service }, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      },
    ];
  }
}

/** cdk-nag's text for a resolved value (as flattenReference in ir-stack.ts), for acknowledgement ids. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(sep);
  }
  if (Array.isArray(v['Fn::GetAtt'])) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if (v.Ref !== undefined) return `<${String(v.Ref)}>`;
  return JSON.stringify(value);
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

