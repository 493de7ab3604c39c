import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runPlan } from '../../../../cli/commands/plan';
import { InvalidInput } from '../../../../handlers/domain/errors';
import { DEFAULT_DECISION_CONFIG, decide, type DecisionConfig } from '../../../../handlers/domain/finding-decision';
import { normalize, type NormalizedFinding } from '../../../../handlers/domain/finding-normalizer';
import type { Decision, Target } from '../../../../handlers/domain/types';

/**
 * Every real public GuardDuty finding of `../shared/fixtures/guardduty/` (third-party data, not copied into this
 * repository; CI provides the folder) through normalize + decide, against an expectation written by reading each
 * file. Two decisions per file:
 *  - as delivered, with the deployment defaults: what the product does with it;
 *  - "as live": the same finding with its sample markers removed and un-archived, severity floor 0, container hosts
 *    on — so the resource-type rules are exercised on GuardDuty's real shapes, not only the sample filter.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const corpusDir = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'guardduty');
const corpusExists = existsSync(corpusDir);
if (!corpusExists) {
  console.warn(`[guardduty-corpus] SKIPPED: ${corpusDir} does not exist (CI provides it; see DESIGN.md).`);
}

const REASONS = {
  sampleFlag: /^sample finding \(\S*[Aa]dditionalInfo\.[Ss]ample is true\)/,
  sampleValue: /^sample finding \(the JSON in \S*AdditionalInfo\.Value has sample true\)/,
  accessKey: /^finding about an access key \(/,
  testFinding: /^GuardDuty test finding/,
  noHost: /names no host instance/,
  credentialsNoInstance: /^credential exfiltration finding names no instance/,
  notInstance: (resourceType: string) => new RegExp(`^finding about an? ${resourceType} resource, not an EC2 instance`),
};

type Outcome = { acquire: Target } | { ignore: RegExp } | { invalid: string };

interface Expectation {
  /** With the deployment defaults. */
  asDelivered: Outcome;
  /** Sample markers removed, un-archived, severity floor 0, container hosts on. */
  asLive: Outcome;
  archived?: boolean;
}

const sampleTarget = (accountId: string, region: string): Target => ({ accountId, region, instanceId: 'i-99999999' });

const EXPECTED: Record<string, Expectation> = {
  // 1. Instance sample (2021). Masked account, but a valid 12-digit one.
  'eb-ec2-metadatadnsrebind-high-sample-2021.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { acquire: sampleTarget('999999999999', 'eu-west-2') },
  },
  // 2. AccessKey sample carrying a dummy instanceDetails: never an instance acquisition.
  'eb-accesskey-credentialaccess-anomalous-medium-sample-2021.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { ignore: REASONS.accessKey },
  },
  // 3. EKS audit-log finding: no instanceDetails, so no node to acquire even with container hosts on.
  'eb-eks-privilegedcontainer-medium-sample-2022.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { ignore: REASONS.noHost },
  },
  // 4. Real IAM finding, no instance.
  'eb-accesskey-cloudtraildisabled-low-real-2021.json': {
    asDelivered: { ignore: REASONS.accessKey },
    asLive: { ignore: REASONS.accessKey },
  },
  // 5. Real HIGH IAM finding: high severity alone does not make it an instance acquisition.
  'eb-accesskey-passwordpolicychange-high-real-2021.json': {
    asDelivered: { ignore: REASONS.accessKey },
    asLive: { ignore: REASONS.accessKey },
  },
  // 6. Real finding masked upstream into invalid formats (11-digit account, 12-hex instance id): refused.
  'eb-ec2-portprobe-low-real-masked-2019.json': {
    asDelivered: { invalid: 'detail.accountId' },
    asLive: { invalid: 'detail.accountId' },
  },
  // 7. Real HIGH instance finding, private-only instance: acquired, target from detail.
  'eb-ec2-dnsdataexfiltration-high-real-2019.json': {
    asDelivered: { acquire: { accountId: '000001111194', region: 'ap-southeast-2', instanceId: 'i-052d01dc385deeeee' } },
    asLive: { acquire: { accountId: '000001111194', region: 'ap-southeast-2', instanceId: 'i-052d01dc385deeeee' } },
  },
  // 8. Legacy credential exfiltration type: names only the role, no instance. Envelope region differs from detail's.
  'eb-accesskey-instancecredexfil-legacy-high-sample-archived-2018.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { ignore: REASONS.credentialsNoInstance },
    archived: true,
  },
  // 9, 10. Archived instance samples; the target is detail.region (ap-northeast-1), not the envelope's us-east-1.
  'eb-ec2-rdpbruteforce-low-sample-archived-2018.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { acquire: sampleTarget('123456789012', 'ap-northeast-1') },
    archived: true,
  },
  'eb-ec2-droppoint-dns-medium-sample-archived-2018.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { acquire: sampleTarget('123456789012', 'ap-northeast-1') },
    archived: true,
  },
  // 11. Policy:S3 finding whose resourceType is AccessKey, with S3 and dummy instance details.
  'eb-s3-policy-bucketblockpublicaccessdisabled-low-sample-2020.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { ignore: REASONS.accessKey },
  },
  // 12, 13. 2025 EventBridge samples: boolean flag and the JSON value both present.
  'eb-accesskey-recon-maliciousipcaller-medium-sample-2025.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { ignore: REASONS.accessKey },
  },
  'eb-ec2-torrelay-high-sample-2025.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { acquire: sampleTarget('180294179922', 'us-east-1') },
  },
  // 14–16. Bare API camelCase instance samples.
  'bare-api-ec2-sshbruteforce-low-sample-2022.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { acquire: sampleTarget('973743533182', 'us-east-2') },
  },
  'bare-api-ec2-ccactivity-b-dns-high-sample-2022.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { acquire: sampleTarget('973743533182', 'us-east-2') },
  },
  'bare-api-ec2-bitcointool-b-dns-high-sample-2022.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { acquire: sampleTarget('973743533182', 'us-east-2') },
  },
  // 17, 18. Credential exfiltration (OutsideAWS, InsideAWS): the instance is resource.instanceDetails.instanceId.
  'bare-api-accesskey-instancecredexfil-outsideaws-high-sample-2022.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { acquire: sampleTarget('973743533182', 'us-east-2') },
  },
  'bare-api-accesskey-instancecredexfil-insideaws-high-sample-2022.json': {
    asDelivered: { ignore: REASONS.sampleFlag },
    asLive: { acquire: sampleTarget('973743533182', 'us-east-2') },
  },
  // 19. GuardDuty's internal test type, no sample flag: ignored by type.
  'bare-api-ec2-canary-stateless-integtest-medium-2017.json': {
    asDelivered: { ignore: REASONS.testFinding },
    asLive: { ignore: REASONS.testFinding },
  },
  // 20. CLI get-findings output: the sample flag exists only inside Service.AdditionalInfo.Value.
  'bare-cli-getfindings-ec2-droppoint-dns-high-sample-2023.json': {
    asDelivered: { ignore: REASONS.sampleValue },
    asLive: { acquire: sampleTarget('783957204773', 'ap-northeast-1') },
  },
  // 21. Real HIGH instance finding in SDK PascalCase: acquired.
  'bare-sdk-ec2-bitcointool-b-high-real-2025.json': {
    asDelivered: { acquire: { accountId: '960603541212', region: 'us-east-1', instanceId: 'i-013e9c5c61429065d' } },
    asLive: { acquire: { accountId: '960603541212', region: 'us-east-1', instanceId: 'i-013e9c5c61429065d' } },
  },
  // 22–24. Runtime Monitoring and Impact findings on EC2 (resourceType Instance).
  'bare-sdk-ec2-runtime-dockersocketaccessed-medium-sample-2025.json': {
    asDelivered: { ignore: REASONS.sampleValue },
    asLive: { acquire: sampleTarget('960603541212', 'us-east-1') },
  },
  'bare-sdk-ec2-runtime-ccactivity-b-dns-high-sample-2025.json': {
    asDelivered: { ignore: REASONS.sampleValue },
    asLive: { acquire: sampleTarget('960603541212', 'us-east-1') },
  },
  'bare-sdk-ec2-impact-bitcoindomainrequest-high-sample-2025.json': {
    asDelivered: { ignore: REASONS.sampleValue },
    asLive: { acquire: sampleTarget('960603541212', 'us-east-1') },
  },
  // 25, 26. Other resources without instances.
  'bare-sdk-lambda-blackholetraffic-medium-sample-2025.json': {
    asDelivered: { ignore: REASONS.sampleValue },
    asLive: { ignore: REASONS.notInstance('Lambda') },
  },
  'bare-sdk-rdslimitlessdb-successfullogin-high-sample-2025.json': {
    asDelivered: { ignore: REASONS.sampleValue },
    asLive: { ignore: REASONS.notInstance('RDSLimitlessDB') },
  },
  // 27–29. Container runtime findings naming their host node: acquired as live only because hosts are on.
  'bare-sdk-ecscluster-runtime-ptrace-low-sample-2025.json': {
    asDelivered: { ignore: REASONS.sampleValue },
    asLive: { acquire: sampleTarget('960603541212', 'us-east-1') },
  },
  'bare-sdk-container-runtime-ptrace-low-sample-2025.json': {
    asDelivered: { ignore: REASONS.sampleValue },
    asLive: { acquire: sampleTarget('960603541212', 'us-east-1') },
  },
  'bare-sdk-ekscluster-runtime-bitcointool-dns-high-sample-2025.json': {
    asDelivered: { ignore: REASONS.sampleValue },
    asLive: { acquire: sampleTarget('960603541212', 'us-east-1') },
  },
  // 30. S3 finding with a dummy instance: never an instance acquisition.
  'bare-sdk-s3bucket-impact-anomalous-delete-high-sample-2025.json': {
    asDelivered: { ignore: REASONS.sampleValue },
    asLive: { ignore: REASONS.notInstance('S3Bucket') },
  },
};

const LIVE_CONFIG: DecisionConfig = { minSeverity: 0, acquireContainerHosts: true };

/** The same finding without any sample marker and not archived. */
function asLive(item: NormalizedFinding): NormalizedFinding {
  const copy = structuredClone(item);
  if (copy.source !== 'guardduty') return copy;
  delete copy.finding.sample;
  const service = copy.finding.service;
  if (service) {
    service.archived = false;
    const info = service.additionalInfo;
    if (info) {
      delete info.sample;
      if (typeof info.value === 'string') {
        const value = JSON.parse(info.value) as Record<string, unknown>;
        delete value.sample;
        info.value = JSON.stringify(value);
      }
    }
  }
  return copy;
}

function outcomeOf(input: unknown, config: DecisionConfig, transform = (i: NormalizedFinding) => i): Decision | InvalidInput {
  try {
    const items = normalize(input).map(transform);
    expect(items).toHaveLength(1);
    return decide(items[0] as NormalizedFinding, config);
  } catch (err) {
    if (err instanceof InvalidInput) return err;
    throw err;
  }
}

function assessOutcome(actual: Decision | InvalidInput, expected: Outcome): void {
  if ('invalid' in expected) {
    expect(actual).toBeInstanceOf(InvalidInput);
    expect((actual as InvalidInput).field).toBe(expected.invalid);
    return;
  }
  expect(actual).not.toBeInstanceOf(InvalidInput);
  const decision = actual as Decision;
  if ('acquire' in expected) {
    expect(decision).toMatchObject({ decision: 'acquire', target: expected.acquire });
  } else {
    expect(decision.decision).toBe('ignore');
    expect(decision.decision === 'ignore' ? decision.reason : '').toMatch(expected.ignore);
  }
}

describe.skipIf(!corpusExists)('GuardDuty corpus (../shared/fixtures/guardduty)', () => {
  const files = corpusExists ? readdirSync(corpusDir).filter((f) => f.endsWith('.json')).sort() : [];
  const read = (file: string): unknown => JSON.parse(readFileSync(path.join(corpusDir, file), 'utf8'));

  it('has an expectation for every file, and a file for every expectation', () => {
    // Assess
    expect(files).toEqual(Object.keys(EXPECTED).sort());
    expect(files).toHaveLength(30);
  });

  describe.each(files)('%s', (file) => {
    const expected = EXPECTED[file] as Expectation;

    it('decides as expected with the deployment defaults', () => {
      // Act
      const actual = outcomeOf(read(file), DEFAULT_DECISION_CONFIG);

      // Assess
      assessOutcome(actual, expected.asDelivered);
    });

    it('decides as expected as a live finding (resource rules on the real shape)', () => {
      // Act
      const actual = outcomeOf(read(file), LIVE_CONFIG, asLive);

      // Assess
      assessOutcome(actual, expected.asLive);
    });

    if (expected.archived) it('is ignored as archived once it is no longer a sample', () => {
      // Act
      const actual = outcomeOf(read(file), LIVE_CONFIG, (item) => {
        const live = asLive(item);
        if (live.source === 'guardduty' && live.finding.service) live.finding.service.archived = true;
        return live;
      });

      // Assess
      assessOutcome(actual, { ignore: /^archived finding/ });
    });

    it('gives the same answer through the plan command', () => {
      // Prepare
      const out: string[] = [];
      const err: string[] = [];

      // Act
      const code = runPlan(readFileSync(path.join(corpusDir, file), 'utf8'), (l) => out.push(l), {}, (m) => err.push(m));

      // Assess
      if ('invalid' in expected.asDelivered) {
        expect(code).toBe(2);
        expect(err[0]).toContain(expected.asDelivered.invalid);
      } else {
        expect(code).toBe(0);
        expect(out).toHaveLength(1);
        const line = JSON.parse(out[0] ?? '{}') as Record<string, unknown>;
        expect(line.decision).toBe('acquire' in expected.asDelivered ? 'acquire' : 'ignore');
      }
    });
  });
});
