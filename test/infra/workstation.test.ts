import { beforeAll, describe, expect, it } from 'vitest';
import { FORENSIC_VPC_CIDR, WORKSTATION_INTERFACE_ENDPOINTS } from '../../infra/constructs/forensic-workstation';
import { type CfnResource, resourcesOfType, type Synthesized, synth } from '../support/synthesis';

/** The forensic workstation's infrastructure: isolated VPC, endpoints, hardened launch template. */
let s: Synthesized;
beforeAll(() => {
  s = synth();
});

const only = (type: string): [string, CfnResource] => {
  const found = resourcesOfType(s.json, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const json = (v: unknown) => JSON.stringify(v);

describe('forensic VPC', () => {
  it('is isolated: no internet gateway, no NAT gateway, no egress-only gateway, no public subnet', () => {
    for (const type of ['AWS::EC2::InternetGateway', 'AWS::EC2::NatGateway', 'AWS::EC2::EgressOnlyInternetGateway', 'AWS::EC2::VPCGatewayAttachment', 'AWS::EC2::EIP']) {
      expect(resourcesOfType(s.json, type), type).toEqual([]);
    }
    const [, vpc] = only('AWS::EC2::VPC');
    expect(vpc.Properties?.CidrBlock).toBe(FORENSIC_VPC_CIDR);
    const subnets = resourcesOfType(s.json, 'AWS::EC2::Subnet');
    expect(subnets.length).toBe(2);
    for (const [id, subnet] of subnets) expect(subnet.Properties?.MapPublicIpOnLaunch, id).toBe(false);
    // Routes: only the S3 gateway endpoint's (on the route tables, not as AWS::EC2::Route) — no default route.
    expect(resourcesOfType(s.json, 'AWS::EC2::Route')).toEqual([]);
  });

  it('has the Session Manager, KMS, logs and STS interface endpoints with private DNS, and an S3 gateway endpoint', () => {
    const endpoints = resourcesOfType(s.json, 'AWS::EC2::VPCEndpoint').map(([, r]) => r.Properties ?? {});
    const interfaces = endpoints.filter((e) => e.VpcEndpointType === 'Interface');
    const services = interfaces.map((e) => /com\.amazonaws\.[^.]+\.([a-z0-9]+)"?/.exec(json(e.ServiceName))?.[1] ?? json(e.ServiceName));
    expect(services.sort()).toEqual([...WORKSTATION_INTERFACE_ENDPOINTS].sort());
    for (const e of interfaces) {
      expect(e.PrivateDnsEnabled).toBe(true);
      expect(json(e.PolicyDocument)).toContain('aws:PrincipalAccount');
    }
    const gateways = endpoints.filter((e) => e.VpcEndpointType === 'Gateway');
    expect(gateways).toHaveLength(1);
    expect(json(gateways[0]!.ServiceName)).toContain('.s3');
    // The S3 endpoint admits the evidence bucket only.
    const policy = json(gateways[0]!.PolicyDocument);
    expect(policy).toContain('EvidenceBucket');
    expect(policy).not.toContain('"Resource":"*"');
  });

  it('logs every flow to a log group encrypted with the evidence key', () => {
    const [, flow] = only('AWS::EC2::FlowLog');
    expect(flow.Properties).toMatchObject({ ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    const keyId = only('AWS::KMS::Key')[0];
    const groupId = (flow.Properties!.LogGroupName as { Ref: string }).Ref;
    expect(s.json.Resources[groupId]?.Properties?.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });
});

describe('workstation launch template', () => {
  const data = () => only('AWS::EC2::LaunchTemplate')[1].Properties?.LaunchTemplateData as Record<string, unknown>;

  it('IMDSv2 required, hop limit 1, instance tags in metadata', () => {
    expect(data().MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, InstanceMetadataTags: 'enabled' });
  });

  it('no public IP, no key pair, the no-ingress group, an instance profile', () => {
    const d = data();
    const nics = d.NetworkInterfaces as { AssociatePublicIpAddress: boolean; DeviceIndex: number; Groups: unknown[] }[];
    expect(nics).toHaveLength(1);
    expect(nics[0]!.AssociatePublicIpAddress).toBe(false);
    expect(d.KeyName).toBeUndefined();
    const profileId = (d.IamInstanceProfile as { Arn: { "Fn::GetAtt": string[] } }).Arn["Fn::GetAtt"][0]!;
    expect(s.json.Resources[profileId]?.Type).toBe("AWS::IAM::InstanceProfile");
    const sgId = (nics[0]!.Groups[0] as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    const group = s.json.Resources[sgId]!;
    expect(group.Properties?.SecurityGroupIngress).toBeUndefined();
    const ingress = resourcesOfType(s.json, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => json(r.Properties?.GroupId).includes(sgId));
    expect(ingress).toEqual([]);
    // Egress: HTTPS only.
    const egress = group.Properties?.SecurityGroupEgress as { IpProtocol: string; FromPort: number; ToPort: number }[];
    expect(egress.map((e) => [e.IpProtocol, e.FromPort, e.ToPort])).toEqual([['tcp', 443, 443]]);
  });

  it('root volume encrypted with the evidence key', () => {
    const keyId = only('AWS::KMS::Key')[0];
    const bdm = data().BlockDeviceMappings as { DeviceName: string; Ebs: Record<string, unknown> }[];
    expect(bdm).toHaveLength(1);
    expect(bdm[0]!.Ebs).toMatchObject({ Encrypted: true, KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, DeleteOnTermination: true });
  });

  it('AMI from the configured SSM parameter (default: Amazon Linux 2023), instance type from config', () => {
    const params = (s.json as { Parameters?: Record<string, { Type: string; Default: string }> }).Parameters ?? {};
    const ami = Object.values(params).find((p) => p.Type === 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>');
    expect(ami?.Default).toBe('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64');
    expect(data().InstanceType).toBe('m7i.large');
    const other = synth({ 'forensics:workstationAmiParameter': '/ir/forensic-image', 'forensics:workstationInstanceType': 'r7i.xlarge' });
    const otherParams = (other.json as { Parameters?: Record<string, { Type: string; Default: string }> }).Parameters ?? {};
    expect(Object.values(otherParams).some((p) => p.Default === '/ir/forensic-image')).toBe(true);
    const [, lt] = resourcesOfType(other.json, 'AWS::EC2::LaunchTemplate')[0]!;
    expect((lt.Properties!.LaunchTemplateData as { InstanceType: string }).InstanceType).toBe('r7i.xlarge');
  });

  it('user data is the mount script (read-only options, mount report to the analysis prefix)', () => {
    const text = json(data().UserData);
    expect(text).toContain('ro,noload');
    expect(text).toContain('ro,norecovery,nouuid');
    expect(text).toContain('/analysis/mount-report-');
    expect(text).toContain('FORENSICS_EVIDENCE_BUCKET');
  });

  it('the mount report is written with the deployment\'s retention and a legal hold, which the role may set', () => {
    // Prepare
    const other = synth({ 'forensics:evidenceRetentionDays': 30, 'forensics:objectLockMode': 'GOVERNANCE' });
    const [, lt] = resourcesOfType(other.json, 'AWS::EC2::LaunchTemplate')[0]!;

    // Assess: the values of this deployment reach the script, and the script writes with them.
    const text = json((lt.Properties!.LaunchTemplateData as { UserData: unknown }).UserData);
    expect(text).toContain("export FORENSICS_RETENTION_MODE='GOVERNANCE'");
    expect(text).toContain("export FORENSICS_RETENTION_DAYS='30'");
    expect(text).toContain('--object-lock-legal-hold-status ON');
    const statements = resourcesOfType(s.json, 'AWS::IAM::Policy').flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
    const write = statements.find((st) => st.Sid === 'WriteAnalysisResults')!;
    expect(write.Action).toEqual(['s3:PutObject', 's3:PutObjectLegalHold']);
    expect(write.Condition).toEqual({ StringEquals: { 's3:object-lock-legal-hold': 'ON' } });
    expect(statements.find((st) => st.Sid === 'RetainAnalysisResults')!.Action).toBe('s3:PutObjectRetention');
    expect(text).toContain("--if-none-match '*'");
    const endpoint = resourcesOfType(s.json, 'AWS::EC2::VPCEndpoint').find(([, r]) => r.Properties?.VpcEndpointType === 'Gateway')!;
    const allowed = (endpoint[1].Properties!.PolicyDocument as { Statement: { Action: string[] }[] }).Statement.flatMap((st) => st.Action);
    expect(allowed).toEqual(expect.arrayContaining(['s3:PutObjectRetention', 's3:PutObjectLegalHold']));
  });

  it('the memory tools builder (this template) may read tools/ of the evidence bucket, and only read it', () => {
    // Prepare
    const statements = resourcesOfType(s.json, 'AWS::IAM::Policy').flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
    const endpoint = resourcesOfType(s.json, 'AWS::EC2::VPCEndpoint').find(([, r]) => r.Properties?.VpcEndpointType === 'Gateway')!;
    const endpointStatements = (endpoint[1].Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;

    // Act
    const role = statements.filter((st) => json(st.Resource).includes('/tools/*'));
    const gateway = endpointStatements.filter((st) => json(st.Resource).includes('/tools/*'));

    // Assess
    expect(role.map((st) => [st.Sid, st.Action])).toEqual([['ReadMemoryTools', 's3:GetObject']]);
    expect(gateway.map((st) => [st.Sid, st.Action])).toEqual([['MemoryToolsReadOnly', 's3:GetObject']]);
  });

  it('the workstation step may launch only from this template, IMDSv2 only, in the forensic VPC', () => {
    const policies = resourcesOfType(s.json, 'AWS::IAM::Policy').flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
    const run = policies.find((st) => st.Sid === 'WorkstationRunFromTemplate')!;
    expect(json(run.Condition)).toContain('ec2:LaunchTemplate');
    expect(json(run.Condition)).toContain('"ec2:MetadataHttpTokens":"required"');
    const vpc = policies.find((st) => st.Sid === 'WorkstationRunInForensicVpc')!;
    expect(json(vpc.Condition)).toContain('ec2:Vpc');
    const pass = policies.find((st) => st.Sid === 'WorkstationPassInstanceRole')!;
    expect(json(pass.Condition)).toContain('ec2.amazonaws.com');
  });
});
