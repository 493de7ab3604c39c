import { type ParsedFailure, type SecuredSummary, type StepName, parseFailureCause } from './case-evidence';
import { drillSubjectPrefix } from './drill';
import { preservationOf } from './preservation';
import { scopeLines } from './scope-manifest';
import { snapshotLineage, secondsBetween } from './manifest';
import type { AcquisitionState } from './types';

/**
 * The responders' notifications, as plain text (e-mail and chat subscriptions show it as is). Pure.
 * Subjects are kept under SNS's 100-character limit by the notifier; the essentials come first so truncation
 * never hides the instance or the case.
 */

export interface Notification {
  subject: string;
  message: string;
  attributes: Record<string, string>;
}

function findingLine(state: AcquisitionState): string {
  const f = state.case.finding;
  return `${f.type} (severity ${f.severity}, id ${f.id}${f.count !== undefined ? `, count ${f.count}` : ''})`;
}

function header(state: AcquisitionState): string[] {
  const c = state.case;
  return [
    ...(drillSubjectPrefix(c.options) ? ['DRILL: an exercise on a canary instance (forensics drill), not an incident.', ''] : []),
    `Case:      ${c.caseId}`,
    `Instance:  ${c.target.instanceId} (account ${c.target.accountId}, ${c.target.region})`,
    `Finding:   ${findingLine(state)}`,
    ...(c.source === 'manual'
      ? [`Requested: by ${c.requestedBy ?? 'unknown'}${c.reason ? ` — ${c.reason}` : ''}`]
      : []),
    `Execution: ${c.executionArn}`,
  ];
}

function actionsTaken(state: AcquisitionState): string[] {
  const lines: string[] = [];
  if (state.acquisition) {
    for (const p of preservationOf(state)) lines.push(`- ${p.action}: ${p.status}${p.detail ? ` (${p.detail})` : ''}`);
  }
  for (const s of snapshotLineage(state)) {
    const copy = s.evidenceSnapshotId ? ` -> evidence copy ${s.evidenceSnapshotId} (${s.evidenceState ?? 'unknown'})` : '';
    lines.push(`- snapshot of ${s.volumeId}${s.deviceName ? ` (${s.deviceName})` : ''}: ${s.originalSnapshotId} (${s.originalState ?? 'requested'})${copy}`);
  }
  const cont = state.containment;
  if (cont) {
    for (const n of cont.networkInterfaces) {
      lines.push(`- ${n.networkInterfaceId} isolated with ${n.isolationGroupId} (was ${n.originalGroupIds.join(', ') || 'no groups'})`);
    }
  }
  return lines.length > 0 ? lines : ['- none'];
}

function timeToContainment(state: AcquisitionState): string {
  if (!state.containment) return 'not contained';
  const s = secondsBetween(state.case.openedAt, state.containment.containedAt);
  return s === null ? 'unknown' : `${s} s after the case opened`;
}

/** The workstation part of the success notification: where to connect, or why there is none. */
export function workstationLines(state: AcquisitionState): string[] {
  const ws = state.workstation;
  if (ws) {
    return [
      `- forensic workstation: ${ws.instanceId} in ${ws.availabilityZone}, ${ws.volumes.length} evidence volume(s) attached read-only`,
      ...ws.volumes.map((v) => `  ${v.attachDevice} <- ${v.sourceVolumeId}${v.sourceDeviceName ? ` (${v.sourceDeviceName})` : ''} from ${v.evidenceSnapshotId}`),
      // The workstation runs in the home region, with the evidence, not necessarily the instance's region.
      `  shell: aws ssm start-session --target ${ws.instanceId} --region ${state.evidence?.copies.find((c) => c.evidenceRegion)?.evidenceRegion ?? state.case.target.region}`,
      `  mount report: ${ws.analysisPrefix}`,
    ];
  }
  if (state.workstationFailure) {
    const failure = parseFailureCause(state.workstationFailure);
    return [
      `- forensic workstation: FAILED (${failure.error}: ${failure.message.slice(0, 300)}).`,
      `  The evidence is sealed and unaffected; retry with: forensics workstation launch ${state.case.caseId}`,
    ];
  }
  return [`- forensic workstation: ${state.case.options?.workstation ? 'not launched' : 'none (not requested for this case)'}`];
}

export function successNotification(state: AcquisitionState, bucket: string): Notification {
  const c = state.case;
  const manifest = state.seal?.manifest;
  const message = [
    'A compromised EC2 instance was acquired and contained.',
    '',
    ...header(state),
    `Time to containment: ${timeToContainment(state)}`,
    '',
    'Actions taken:',
    ...actionsTaken(state),
    '',
    'Evidence:',
    `- s3://${bucket}/cases/${c.caseId}/`,
    ...(manifest ? [`- manifest s3://${manifest.bucket}/${manifest.key} (sha256 ${manifest.sha256})`] : []),
    ...workstationLines(state),
    ...scopeLines(state),
    '',
    'The instance stays isolated and the case stays open until a responder releases it.',
  ].join('\n');
  return {
    subject: `[IR] ${drillSubjectPrefix(c.options)}Contained ${c.target.instanceId} - case ${c.caseId} - ${c.finding.type}`,
    message,
    attributes: { caseId: c.caseId, status: 'CONTAINED', severity: String(c.finding.severity), instanceId: c.target.instanceId },
  };
}

export function failureNotification(input: {
  state: AcquisitionState;
  failedStep: StepName;
  failure: ParsedFailure;
  secured: SecuredSummary;
  lockReleased: boolean;
  bucket: string;
}): Notification {
  const { state, failedStep, failure, secured } = input;
  const c = state.case;
  const securedLines = [
    ...secured.snapshots.map((s) => `- snapshot ${s.snapshotId} of ${s.volumeId} (${s.state ?? 'requested'})`),
    ...secured.evidenceSnapshots.map((s) => `- evidence copy ${s.evidenceSnapshotId} of ${s.volumeId} (${s.state ?? 'unknown'})`),
    ...secured.isolatedNetworkInterfaces.map((id) => `- ${id} isolated`),
    ...secured.preservationApplied.map((a) => `- ${a} applied`),
    ...(secured.manifest ? [`- manifest s3://${secured.manifest.bucket}/${secured.manifest.key}`] : []),
  ];
  const message = [
    'The forensic acquisition of an EC2 instance FAILED.',
    '',
    ...header(state),
    '',
    `Failed step: ${failedStep}`,
    `Error:       ${failure.error}${failure.errorType && failure.errorType !== failure.error ? ` (${failure.errorType})` : ''}`,
    `Message:     ${failure.message}`,
    '',
    'Already secured:',
    ...(securedLines.length > 0 ? securedLines : ['- nothing: no change was made to the instance']),
    `Containment: ${timeToContainment(state)}`,
    '',
    `Evidence so far: s3://${input.bucket}/cases/${c.caseId}/`,
    input.lockReleased
      ? 'The instance lock was released: a new finding for this instance starts a new acquisition.'
      : 'The instance lock is kept: review the instance and the case, then release it or acquire manually.',
  ].join('\n');
  return {
    subject: `[IR] ${drillSubjectPrefix(c.options)}FAILED acquisition ${c.target.instanceId} - case ${c.caseId} - ${failedStep}`,
    message,
    attributes: { caseId: c.caseId, status: 'FAILED', severity: String(c.finding.severity), instanceId: c.target.instanceId },
  };
}
