import { S3Client } from '@aws-sdk/client-s3';
import { type DeploymentOptions, resolveDeployment, s3Config } from '../deployment/discover';
import { sanitize } from '../output/format';
import { gapLine, renderTimelineText } from '../output/timeline-text';
import { EXIT_OK, type Io, parseOutputFormat, runCommand } from './common';
import { loadManifest, readCaseRecord, requireCaseId } from './evidence-reader';
import { loadScopeDocument } from './scope-reader';

/**
 * `forensics case timeline <caseId> [--output json|text]`: the principal's CloudTrail timeline as sealed in the case
 * (`timeline.json`, read through the manifest's `timeline.key` and checked against its SHA-256 first).
 * JSON: the array of events, exactly as sealed (each with `time`, `region`, `eventName`, `sourceIPAddress`, …).
 * A case without a timeline (sealed before scoping existed, or scope skipped or failed) is exit 1 with the reason.
 */

export interface TimelineOptions extends DeploymentOptions {
  output?: string;
}

export async function runCaseTimeline(caseId: string, options: TimelineOptions, io: Io): Promise<number> {
  return runCommand(io, async () => {
    const format = parseOutputFormat(options.output);
    requireCaseId(caseId);
    const deployment = await resolveDeployment(options, ['bucket']);
    const bucket = deployment.bucket as string;
    const s3 = new S3Client(s3Config(deployment));
    try {
      const record = await readCaseRecord(deployment, caseId);
      const { manifest } = await loadManifest(s3, bucket, caseId, record);
      const { document, warning } = await loadScopeDocument(s3, bucket, manifest, 'timeline');
      if (warning) io.err(`forensics: warning: ${warning}`);
      // An incomplete timeline is still the evidence: printed, with where it is incomplete on stderr.
      if (manifest.timeline?.status === 'partial' || document.gaps.length > 0) {
        io.err(`forensics: warning: the timeline is ${manifest.timeline?.status ?? 'partial'}: ${document.gaps.length} gap(s)${document.gaps[0] ? `, first: ${sanitize(gapLine(document.gaps[0]))}` : ''}`);
      }
      if (format === 'json') io.out(JSON.stringify(document.events, null, 2));
      else for (const line of renderTimelineText(document)) io.out(line);
      return EXIT_OK;
    } finally {
      s3.destroy();
    }
  });
}
