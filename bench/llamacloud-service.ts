import { startLlamaCloudEmulator } from '../sandbox/llamacloud-emulator';
import { exitWithParent } from './lib';

/**
 * The LlamaCloud emulator in its own process (so the uploading process's RSS is its own). It
 * parses each multipart upload as it streams in and keeps only a hash and the first bytes.
 */
const emulator = await startLlamaCloudEmulator({ apiKey: 'llx-bench', host: '127.0.0.1', port: 0, jobDelayMs: 1 });
process.stdout.write(`@@ready ${JSON.stringify({ url: emulator.url })}\n`);
exitWithParent(() => emulator.close());
