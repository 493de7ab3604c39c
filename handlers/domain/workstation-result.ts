import type { SealedObject } from './sealed-object';

/** What the forensic workstation step returns (the decisions are in workstation.ts). */

/** A subnet of the forensic VPC as the launch step sees it. */
export interface WorkstationSubnet {
  subnetId: string;
  availabilityZone: string;
  state: string;
  availableIpAddressCount: number;
}

/** One evidence volume of the workstation: where it comes from and where it is attached. */
export interface WorkstationVolume {
  /** The compromised instance's volume this is a copy of. */
  sourceVolumeId: string;
  /** Its device on the compromised instance (e.g. /dev/xvda). */
  sourceDeviceName: string | null;
  /** The IR-owned evidence snapshot (evidence key) the volume was created from; never modified. */
  evidenceSnapshotId: string;
  sizeGiB: number | null;
  /** The volume created for the workstation (evidence key, case tags). */
  volumeId: string;
  /** The device it is attached on (/dev/sdf, /dev/sdg, … in the original order). */
  attachDevice: string;
  /** EC2 attachment state when the step returned (`attached` normally). */
  attachmentState: string;
}

/** Output of "Launch forensic workstation" — stored at `$.workstation`; also in the case record and workstation.json. */
export interface WorkstationResult {
  status: 'ready' | 'attaching';
  instanceId: string;
  launchTemplateId: string;
  subnetId: string;
  availabilityZone: string;
  launchedAt: string;
  /** The metadata options the instance was launched with (IMDSv2 only, hop limit 1, tags in metadata). */
  metadataOptions: { httpTokens: string; httpPutResponseHopLimit: number; instanceMetadataTags: string };
  volumes: WorkstationVolume[];
  allAttached: boolean;
  /** Where the user data writes the mount report. */
  analysisPrefix: string;
  /** The workstation record object (written once, legal hold), also hashed in the custody chain. */
  record: SealedObject;
}
