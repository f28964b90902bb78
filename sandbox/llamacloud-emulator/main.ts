/**
 * Runs the emulator as a standalone process:
 *   npx tsx sandbox/llamacloud-emulator/main.ts --port 0 --api-key KEY
 * Prints `{"url": "..."}` as one JSON line on stdout, then serves until SIGINT/SIGTERM.
 * The api key may also come from LLAMACLOUD_EMULATOR_API_KEY; it is never printed.
 */
import { parseArgs } from 'node:util';
import { optionalInt, parseOrExit } from '../emulator-kit/cli-args';
import { serveUntilSignal } from '../emulator-kit/serve-until-signal';
import { startLlamaCloudEmulator, type LlamaEmulatorOptions, type ProductType } from './index';

const USAGE =
  'usage: main.ts --api-key KEY [--port N] [--host H] [--page-size N] [--max-upload-bytes N] [--job-delay-ms N]\n' +
  '               [--configuration ID=parse_v2|extract_v2 ...]';

function parseConfiguration(raw: string): { id: string; product_type: ProductType } {
  const m = /^([^=\s]+)=(parse_v2|extract_v2)$/.exec(raw);
  if (!m) throw new Error(`--configuration must look like ID=parse_v2 or ID=extract_v2, got ${raw}`);
  return { id: m[1]!, product_type: m[2] as ProductType };
}

function parseOptions(argv: string[]): LlamaEmulatorOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'api-key': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'page-size': { type: 'string' },
      'max-upload-bytes': { type: 'string' },
      'job-delay-ms': { type: 'string' },
      configuration: { type: 'string', multiple: true },
    },
  });
  const apiKey = values['api-key'] ?? process.env.LLAMACLOUD_EMULATOR_API_KEY;
  if (!apiKey) throw new Error('--api-key (or LLAMACLOUD_EMULATOR_API_KEY) is required');
  return {
    apiKey,
    host: values.host,
    port: optionalInt('port', values.port),
    pageSize: optionalInt('page-size', values['page-size']),
    maxUploadBytes: optionalInt('max-upload-bytes', values['max-upload-bytes']),
    jobDelayMs: optionalInt('job-delay-ms', values['job-delay-ms']),
    configurations: values.configuration?.map(parseConfiguration),
  };
}

const options = parseOrExit(parseOptions, USAGE);
const emulator = await startLlamaCloudEmulator(options);
serveUntilSignal(emulator, { url: emulator.url });
