/**
 * Runs the emulator as a standalone process:
 *   npx tsx sandbox/extend-emulator/main.ts --port 0 --api-key KEY [--webhook-url URL]
 * Prints `{"url": "...", "signingSecret": "wss_..."}` as one JSON line on stdout, then serves until
 * SIGINT/SIGTERM. The api key may also come from EXTEND_EMULATOR_API_KEY; it is never printed.
 */
import { parseArgs } from 'node:util';
import { optionalInt, parseOrExit } from '../emulator-kit/cli-args';
import { serveUntilSignal } from '../emulator-kit/serve-until-signal';
import { startExtendEmulator, type ExtendEmulatorOptions } from './index';

const USAGE =
  'usage: main.ts --api-key KEY [--port N] [--host H] [--webhook-url URL] [--signing-secret S]\n' +
  '               [--page-size N] [--run-delay-ms N] [--max-inputs-per-batch N]';

function parseOptions(argv: string[]): ExtendEmulatorOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'api-key': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'webhook-url': { type: 'string' },
      'signing-secret': { type: 'string' },
      'page-size': { type: 'string' },
      'run-delay-ms': { type: 'string' },
      'max-inputs-per-batch': { type: 'string' },
    },
  });
  const apiKey = values['api-key'] ?? process.env.EXTEND_EMULATOR_API_KEY;
  if (!apiKey) throw new Error('--api-key (or EXTEND_EMULATOR_API_KEY) is required');
  return {
    apiKey,
    host: values.host,
    port: optionalInt('port', values.port),
    webhookUrl: values['webhook-url'],
    signingSecret: values['signing-secret'],
    pageSize: optionalInt('page-size', values['page-size']),
    runDelayMs: optionalInt('run-delay-ms', values['run-delay-ms']),
    maxInputsPerBatch: optionalInt('max-inputs-per-batch', values['max-inputs-per-batch']),
  };
}

const options = parseOrExit(parseOptions, USAGE);
let emulator;
try {
  emulator = await startExtendEmulator(options);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
serveUntilSignal(emulator, { url: emulator.url, signingSecret: emulator.signingSecret });
