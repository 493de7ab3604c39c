import type { IConstruct } from 'constructs';
import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { allowOn as allowOnHome, type StepPermission } from './constructs/step-permissions';
import { flattenReference } from './constructs/nag-acknowledgements';

/**
 * The IR stack acts on instances in every workload region, not only its own ("one IR home region").
 *
 * The step permissions are written for the stack's region (`arn:…:ec2:${AWS::Region}:…`, `ec2.${AWS::Region}.amazonaws
 * .com`); `inWorkloadRegions` repeats every such resource ARN and `kms:ViaService`-style condition value for each
 * region of `forensics:workloadRegions`, and leaves everything else as it is: IAM ARNs (global), the evidence key's
 * ARN (its own region), the case table, bucket and topic (home region). So a statement keeps its actions and
 * conditions, and only gains the same resources in the other regions — least privilege per region, no `*` region.
 *
 * The environment-agnostic stack's region is a token; the configured regions are literals, so the home region's
 * statement stays as it was and the workload regions are added beside it (a region listed that is also the home
 * region only repeats the same ARN under another spelling: harmless).
 */
export function inWorkloadRegions(scope: IConstruct, regions: readonly string[]): (p: StepPermission) => StepPermission {
  if (regions.length === 0) return (p) => p;
  const home = Stack.of(scope).region;
  const expand = (value: string): string[] =>
    value.includes(home) ? [...new Set([value, ...regions.map((r) => value.split(home).join(r))])] : [value];
  const expandValue = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const all = expand(value);
      return all.length === 1 ? all[0] : all;
    }
    if (Array.isArray(value)) return [...new Set(value.flatMap((v) => (typeof v === 'string' ? expand(v) : [v])))];
    return value;
  };
  return (p) => ({
    ...p,
    resources: [...new Set(p.resources.flatMap(expand))],
    ...(p.conditions
      ? {
          conditions: Object.fromEntries(
            Object.entries(p.conditions).map(([operator, keys]) => [
              operator,
              Object.fromEntries(Object.entries(keys).map(([key, value]) => [key, expandValue(value)])),
            ]),
          ),
        }
      : {}),
  });
}

/** `allowOn` (step-permissions.ts) with the statement repeated in the workload regions (see `inWorkloadRegions`). */
export function regionalAllowOn(scope: IConstruct, regions: readonly string[]) {
  const inRegions = inWorkloadRegions(scope, regions);
  return (
    role: iam.IRole & { node: iam.Role['node'] },
    statement: StepPermission,
    flatten: (value: unknown) => string = flattenReference,
  ): void => allowOnHome(role, inRegions(statement), flatten);
}
