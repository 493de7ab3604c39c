import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HandlerEnvironment } from '../../handlers/config/env';
import { ACQUISITION_STEPS, ACQUISITION_SUPPORT_FUNCTIONS, type AcquisitionStep, type AcquisitionSupportFunction } from '../../workflows/acquisition-steps';
import { RELEASE_STEPS, type ReleaseStep } from '../../workflows/release-steps';
import { LAMBDA_BUNDLE_FILE } from '../bundling/lambda-bundle';

/** A step of any of this product's state machines (acquisition or release), or a function serving one. */
export type WorkflowStep = AcquisitionStep | ReleaseStep | AcquisitionSupportFunction;

/**
 * Handler entry, console state name and workflow of a step, from ACQUISITION_STEPS, RELEASE_STEPS or
 * ACQUISITION_SUPPORT_FUNCTIONS.
 */
export function stepDefinition(step: WorkflowStep): { entry: string; state: string; workflow: 'acquisition' | 'release' } {
  if (step in RELEASE_STEPS) return { ...RELEASE_STEPS[step as ReleaseStep], workflow: 'release' };
  if (step in ACQUISITION_SUPPORT_FUNCTIONS) {
    return { ...ACQUISITION_SUPPORT_FUNCTIONS[step as AcquisitionSupportFunction], workflow: 'acquisition' };
  }
  return { ...ACQUISITION_STEPS[step as AcquisitionStep], workflow: 'acquisition' };
}

/** A function's description in the console (and what the assembly test finds a state's function by). */
export function functionDescription(workflow: 'acquisition' | 'release', state: string): string {
  return `Forensic ${workflow}: ${state}`;
}

/**
 * The Lambda environment, one string per key of `HandlerEnvironment` (handlers/config/env.ts). Mapped from that
 * type so that a setting added to the handlers' schema fails compilation here until the stack provides it, and
 * a key the handlers do not read cannot be added by mistake.
 */
export type LambdaEnvironment = { readonly [K in keyof HandlerEnvironment]: string };

/** Repository root: handler entries in ACQUISITION_STEPS are relative to it, whatever the working directory. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The one runtime every step runs on. cdk-nag's AwsSolutions-L1 requires the newest Node.js runtime this CDK
 * version knows; a runtime change is made here and nowhere else.
 */
export const FORENSIC_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface ForensicFunctionProps<S extends WorkflowStep = AcquisitionStep> {
  /** Which step this function implements; its handler entry comes from ACQUISITION_STEPS (or RELEASE_STEPS). */
  readonly step: S;
  /** The handlers' environment, complete by construction (see `LambdaEnvironment`). */
  readonly environment: LambdaEnvironment;
  /** Key for the function's log group: logs carry case data (instance ids, findings, principals). */
  readonly logKey: kms.IKey;
  /** @default one year — the execution is part of the case record */
  readonly logRetention?: logs.RetentionDays;
  /** Upper bound of one invocation; the state machine retries throttling on top of the SDK's own retries. */
  readonly timeout: Duration;
  /** @default 512 MB — more memory is more CPU, which the SHA-256 hashing of evidence records uses */
  readonly memorySize?: number;
  readonly description?: string;
  /**
   * A fixed role name, for roles another account must name exactly (the responder roles' trust policies name the
   * IR workflow roles that may assume them). @default a generated name
   */
  readonly roleName?: string;
}

/**
 * The house Lambda function of the acquisition workflow: every step runs on the same runtime, architecture,
 * logging and tracing settings, so a security review of one function covers them all.
 *
 * - **Its own role, no managed policy.** The role starts with nothing but writing to its own log group and
 *   X-Ray; the stack adds the step's permissions statement by statement (`role`), so each role is exactly the
 *   least privilege of its step and nothing is inherited from AWSLambdaBasicExecutionRole (which would allow
 *   writing to every log group of the account).
 * - **Explicit, KMS-encrypted, retained log group** with JSON logs: the executions of an incident response are
 *   themselves evidence of what was done, so they outlive a stack deletion and are queryable by field.
 * - **ARM64** (cheaper, no x86-only dependency) and **X-Ray active** tracing, so a slow containment step is visible.
 * - **Bundled locally with esbuild** (no Docker), as infra/bundling/lambda-bundle.ts says: ESM, the AWS SDK bundled
 *   (the version locked and tested here) with its schemas tree-shaken. Not `NodejsFunction`: its esbuild command line
 *   takes no plugin, and the schema rewrite that halves every bundle is one (infra/bundling/sdk-schema-keys.ts).
 */
export class ForensicFunction<S extends WorkflowStep = AcquisitionStep> extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly step: S;

  constructor(scope: Construct, id: string, props: ForensicFunctionProps<S>) {
    super(scope, id);
    this.step = props.step;
    const { entry, state, workflow } = stepDefinition(props.step);
    const label = workflow === 'release' ? 'Release' : 'Acquisition';

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${label} step "${state}": only the calls this step makes`,
      ...(props.roleName ? { roleName: props.roleName } : {}),
    });
    // Only this function's own log group (CreateLogStream, PutLogEvents), not the account's.
    this.logGroup.grantWrite(this.role);

    this.function = new lambda.Function(this, 'Function', {
      code: bundledCode(entry),
      handler: 'index.handler',
      description: props.description ?? functionDescription(workflow, state),
      runtime: FORENSIC_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      environment: {
        ...props.environment,
        // Stack traces in the logs point at the TypeScript source, not the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
      },
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      // Adds xray:PutTraceSegments/PutTelemetryRecords on "*" to the role (X-Ray has no resource to scope to).
      tracing: lambda.Tracing.ACTIVE,
      // A step that is throttled is retried by the state machine with jitter; a recursive loop is a bug.
      recursiveLoop: lambda.RecursiveLoop.TERMINATE,
    });
  }

  /** Add one statement to this step's role (the stack documents each with the handler call that needs it). */
  addToRolePolicy(statement: iam.PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }
}

const TSX_CLI = createRequire(import.meta.url).resolve('tsx/cli');
const BUNDLE_COMMAND = path.join(PROJECT_ROOT, 'infra', 'bundling', 'bundle-command.ts');

/**
 * The function's code: its entry bundled by infra/bundling/lambda-bundle.ts at synthesis, in a child process (CDK's
 * local bundling hook is synchronous; esbuild's plugins need its asynchronous API). The asset hash is the bundle's
 * own, so an unchanged bundle is not uploaded again. Bundling skipped (`aws:cdk:bundling-stacks: []`): nothing runs.
 */
function bundledCode(entry: string): lambda.Code {
  return lambda.Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling always succeeds or throws (there is no Docker fallback to drift from it).
      image: DockerImage.fromRegistry('forensics/local-bundling-only'),
      // Also what makes each function its own asset: CDK caches staged assets by source path and these options (the
      // hook below is a function, which its cache key ignores), so without the entry here every function would get
      // the first one's bundle.
      command: ['bundle-command.ts', entry],
      local: {
        tryBundle(outputDir: string): boolean {
          const run = spawnSync(process.execPath, [TSX_CLI, BUNDLE_COMMAND, PROJECT_ROOT, entry, outputDir], { stdio: 'inherit' });
          if (run.status !== 0) throw new Error(`bundling ${entry} failed (exit ${run.status ?? run.signal})`);
          if (!existsSync(path.join(outputDir, LAMBDA_BUNDLE_FILE))) throw new Error(`bundling ${entry} wrote no ${LAMBDA_BUNDLE_FILE}`);
          return true;
        },
      },
    },
  });
}
