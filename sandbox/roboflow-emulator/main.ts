/**
 * Runs the emulator as a standalone process:
 *   npx tsx sandbox/roboflow-emulator/main.ts --port 0 --api-key KEY --workspace W
 * Prints `{"url": "...", "workspace": "..."}` as one JSON line on stdout, then serves until SIGINT/SIGTERM.
 * The api key may also come from ROBOFLOW_EMULATOR_API_KEY; it is never printed.
 */
import { parseArgs } from 'node:util';
import { optionalInt, parseOrExit } from '../emulator-kit/cli-args';
import { serveUntilSignal } from '../emulator-kit/serve-until-signal';
import { startRoboflowEmulator, type EmulatorOptions } from './index';

const USAGE =
  'usage: main.ts --api-key KEY --workspace SLUG [--port N] [--host H] [--workspace-id ID] [--page-size N]\n' +
  '               [--trusted-host HOST ...] [--ingest-delay-ms N] [--job-stage-delay-ms N] [--max-image-bytes N]\n' +
  '               [--export-stage-name NAME|none] [--repeated-job-post-status N] [--refuse-http-references]\n' +
  '               [--untrusted-host HOST ...]   (the switches: see README.md)';

function parseOptions(argv: string[]): EmulatorOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'api-key': { type: 'string' },
      workspace: { type: 'string' },
      'workspace-id': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'page-size': { type: 'string' },
      'trusted-host': { type: 'string', multiple: true },
      'ingest-delay-ms': { type: 'string' },
      'job-stage-delay-ms': { type: 'string' },
      'max-image-bytes': { type: 'string' },
      'export-stage-name': { type: 'string' },
      'repeated-job-post-status': { type: 'string' },
      'refuse-http-references': { type: 'boolean', default: false },
      'untrusted-host': { type: 'string', multiple: true },
    },
  });
  const exportStageName = values['export-stage-name'];
  const apiKey = values['api-key'] ?? process.env.ROBOFLOW_EMULATOR_API_KEY;
  if (!apiKey || !values.workspace) throw new Error('--api-key (or ROBOFLOW_EMULATOR_API_KEY) and --workspace are required');
  return {
    apiKey,
    workspace: values.workspace,
    workspaceId: values['workspace-id'],
    host: values.host,
    port: optionalInt('port', values.port),
    pageSize: optionalInt('page-size', values['page-size']),
    trustedHosts: values['trusted-host'],
    ingestDelayMs: optionalInt('ingest-delay-ms', values['ingest-delay-ms']),
    jobStageDelayMs: optionalInt('job-stage-delay-ms', values['job-stage-delay-ms']),
    maxImageBytes: optionalInt('max-image-bytes', values['max-image-bytes']),
    faults: {
      exportStageName: exportStageName === 'none' ? null : exportStageName,
      repeatedJobPostStatus: optionalInt('repeated-job-post-status', values['repeated-job-post-status']),
      refuseHttpReferences: values['refuse-http-references'],
      untrustedHosts: values['untrusted-host'],
    },
  };
}

const options = parseOrExit(parseOptions, USAGE);
const emulator = await startRoboflowEmulator(options);
serveUntilSignal(emulator, { url: emulator.url, workspace: options.workspace });
