import { describe, expect, it } from 'vitest';
import { flowLogDestination, flowLogFileInWindow, flowLogFolders, flowLogSetting } from '../../../../handlers/domain/flow-log-layout';

const ACCOUNT = '111122223333';
const WINDOW = { from: '2025-03-16T22:30:00.000Z', to: '2025-03-17T00:50:00.000Z', lookBackHours: 24 };
const FL = 'fl-0123456789abcdef0';
const file = (stamp: string, id = FL) => `AWSLogs/${ACCOUNT}/vpcflowlogs/eu-west-1/2025/03/17/${ACCOUNT}_vpcflowlogs_eu-west-1_${id}_${stamp}_0a1b2c3d.log.gz`;

describe('flow log layout', () => {
  it('reads the destination ARN as bucket and prefix, and spells it as forensics:flowLogBuckets does', () => {
    expect(flowLogDestination('arn:aws:s3:::central-flows/vpc/')).toEqual({ bucket: 'central-flows', prefix: 'vpc' });
    expect(flowLogDestination('arn:aws:s3:::central-flows')).toEqual({ bucket: 'central-flows', prefix: '' });
    expect(flowLogSetting({ bucket: 'central-flows', prefix: 'vpc' })).toBe('central-flows/vpc');
    expect(flowLogDestination('arn:aws:logs:eu-west-1:111122223333:log-group:x')).toBeUndefined();
  });

  it('lists the window’s day folders (default) and hour folders (per-hour partitions), with the delivery margin', () => {
    // Act
    const days = flowLogFolders({ bucket: 'b', prefix: 'vpc' }, { accountId: ACCOUNT, region: 'eu-west-1', hiveCompatible: false, perHour: false }, WINDOW);
    const hours = flowLogFolders({ bucket: 'b', prefix: '' }, { accountId: ACCOUNT, region: 'eu-west-1', hiveCompatible: false, perHour: true }, WINDOW);
    // Assess
    expect(days).toEqual([`vpc/AWSLogs/${ACCOUNT}/vpcflowlogs/eu-west-1/2025/03/16/`, `vpc/AWSLogs/${ACCOUNT}/vpcflowlogs/eu-west-1/2025/03/17/`]);
    expect(hours).toEqual(['2025/03/16/22/', '2025/03/16/23/', '2025/03/17/00/', '2025/03/17/01/'].map((h) => `AWSLogs/${ACCOUNT}/vpcflowlogs/eu-west-1/${h}`));
  });

  it('spells Hive-compatible folders, with and without hours', () => {
    // Act
    const hive = flowLogFolders({ bucket: 'b', prefix: '' }, { accountId: ACCOUNT, region: 'eu-west-1', hiveCompatible: true, perHour: true }, { ...WINDOW, from: '2025-03-17T00:10:00.000Z', to: '2025-03-17T00:20:00.000Z' });
    const hiveDays = flowLogFolders({ bucket: 'b', prefix: 'p' }, { accountId: ACCOUNT, region: 'eu-west-1', hiveCompatible: true, perHour: false }, { ...WINDOW, from: '2025-03-17T00:10:00.000Z' });
    // Assess
    expect(hive).toEqual([`AWSLogs/aws-account-id=${ACCOUNT}/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2025/month=03/day=17/hour=00/`]);
    expect(hiveDays).toEqual([`p/AWSLogs/aws-account-id=${ACCOUNT}/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2025/month=03/day=17/`]);
  });

  it('keeps this flow log’s files of the window (to its end plus 15 minutes), nothing else', () => {
    expect(flowLogFileInWindow(file('20250317T0005Z'), FL, WINDOW)).toBe(true);
    expect(flowLogFileInWindow(file('20250317T0105Z'), FL, WINDOW)).toBe(true);
    expect(flowLogFileInWindow(file('20250317T0106Z'), FL, WINDOW)).toBe(false);
    expect(flowLogFileInWindow(file('20250316T2225Z'), FL, WINDOW)).toBe(false);
    expect(flowLogFileInWindow(file('20250317T0005Z', 'fl-0fffffffffffffff0'), FL, WINDOW)).toBe(false);
    expect(flowLogFileInWindow(file('20250317T0005Z').replace('.log.gz', '.log.parquet'), FL, WINDOW)).toBe(true);
    expect(flowLogFileInWindow('AWSLogs/x/readme.txt', FL, WINDOW)).toBe(false);
  });
});
