import { describe, expect, it } from 'vitest';
import { instanceStoreOfType, preIncidentOf } from '../../../../handlers/domain/instance-store';
import { acquiredState } from '../../../support/evidence-test-kit';

describe('preIncidentOf (instance store found beside CreateSnapshots)', () => {
  it("adds the instance type's instance store to the pre-incident state when the mappings showed none", () => {
    // Prepare
    const s = acquiredState();
    const byType = instanceStoreOfType({ supported: true, disks: [{ count: 2, sizeGB: 300, type: 'ssd' }] });
    const state = { ...s, acquisition: { ...(s.acquisition as NonNullable<typeof s.acquisition>), instanceStoreDevices: byType } };
    // Act
    const pre = preIncidentOf(state);
    // Assess
    expect(byType).toHaveLength(1);
    expect(pre?.instanceStoreDevices).toEqual(byType);
    expect(preIncidentOf(s)).toBe(s.describe?.preIncident);
    expect(instanceStoreOfType({ supported: false, disks: [] })).toEqual([]);
  });
});
