/**
 * Runs the emulator as a standalone process:
 *   npx tsx sandbox/roboflow-emulator/main.ts --port 0 --api-key KEY --workspace W
 * Prints `{"url": "...", "workspace": "..."}` as one JSON line on stdout, then serves until SIGINT/SIGTERM.
 * The api key may also come from ROBOFLOW_EMULATOR_API_KEY; it is never printed.
 */
import { parseArgs } from 'node:util';
import { optionalInt, parseOrExit } from '../emulator-kit/cli-args';
import { serveUntilSignal } from '../emulator-kit/serve-until-signal';
import { startRoboflowEmulator, type EmulatorFaults, type EmulatorOptions } from './index';

const USAGE =
  'usage: main.ts --api-key KEY --workspace SLUG [--port N] [--host H] [--workspace-id ID] [--page-size N]\n' +
  '               [--trusted-host HOST ...] [--ingest-delay-ms N] [--job-stage-delay-ms N] [--max-image-bytes N]\n' +
  '               [--export-stage-name NAME|none] [--repeated-job-post-status N] [--refuse-http-references]\n' +
  '               [--untrusted-host HOST ...] [--max-images-per-archive N] [--max-archive-bytes N]\n' +
  '               [--plan-without-signed-urls [--signed-url-refusal-status N | --signed-url-refusal-during-ingest]]\n' +
  '               (the switches: see README.md)';

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
      'max-images-per-archive': { type: 'string' },
      'max-archive-bytes': { type: 'string' },
      'plan-without-signed-urls': { type: 'boolean', default: false },
      'signed-url-refusal-status': { type: 'string' },
      'signed-url-refusal-during-ingest': { type: 'boolean', default: false },
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
    maxImagesPerArchive: optionalInt('max-images-per-archive', values['max-images-per-archive']),
    maxArchiveBytes: optionalInt('max-archive-bytes', values['max-archive-bytes']),
    faults: {
      exportStageName: exportStageName === 'none' ? null : exportStageName,
      repeatedJobPostStatus: optionalInt('repeated-job-post-status', values['repeated-job-post-status']),
      refuseHttpReferences: values['refuse-http-references'],
      untrustedHosts: values['untrusted-host'],
      signedUrlIngestRefused: planRefusal(values),
    },
  };
}

function planRefusal(values: {
  'plan-without-signed-urls': boolean;
  'signed-url-refusal-status'?: string;
  'signed-url-refusal-during-ingest': boolean;
}): EmulatorFaults['signedUrlIngestRefused'] {
  const status = optionalInt('signed-url-refusal-status', values['signed-url-refusal-status']);
  const duringIngest = values['signed-url-refusal-during-ingest'];
  if (!values['plan-without-signed-urls']) {
    if (status !== undefined || duringIngest) throw new Error('--signed-url-refusal-* needs --plan-without-signed-urls');
    return undefined;
  }
  if (status !== undefined && duringIngest) throw new Error('--signed-url-refusal-status and --signed-url-refusal-during-ingest exclude each other');
  return duringIngest ? { during: 'ingest' } : status === undefined ? true : { status };
}

const options = parseOrExit(parseOptions, USAGE);
const emulator = await startRoboflowEmulator(options);
serveUntilSignal(emulator, { url: emulator.url, workspace: options.workspace });
