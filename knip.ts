import type { KnipConfig } from 'knip';
import { ACQUISITION_STEPS, ACQUISITION_SUPPORT_FUNCTIONS } from './workflows/acquisition-steps';
import { RELEASE_STEPS } from './workflows/release-steps';

// Lambda entries are named by path in the step registries (infra/bundling bundles them, the local runner imports
// them): take them from there so a new step is an entry without editing this file.
const lambdaEntries = [ACQUISITION_STEPS, ACQUISITION_SUPPORT_FUNCTIONS, RELEASE_STEPS].flatMap((steps) =>
  Object.values(steps).map((step) => step.entry),
);

const config: KnipConfig = {
  // The CLI, the demo and the benchmark are entries through package.json scripts; cdk.json runs infra/app.ts; the
  // benchmark bundles its EC2-only reference handler by path, as the steps are bundled; the house Lambda construct
  // runs the bundling command as a child process at synthesis.
  entry: [...lambdaEntries, 'infra/app.ts', 'bench/reference-handler.ts', 'infra/bundling/bundle-command.ts'],
  project: ['{infra,handlers,workflows,cli,test,bench}/**/*.ts', '*.ts'],
  // An export a file also uses itself is its public surface for tests; only exports nothing uses are findings.
  ignoreExportsUsedInFile: true,
  // Preinstalled in the image, not npm packages (see .ci/run); shellcheck (Debian) is optional: its tests skip without
  // it; sha256sum (coreutils) is what the capture script and its tests use.
  ignoreBinaries: ['cfn-lint', 'shellcheck', 'sha256sum'],
};

export default config;
