import { InputError, errorMessage } from '../shared/errors';
import { exportCommand } from './commands/export';
import { resumeCommand } from './commands/resume';
import { runCommand } from './commands/run';
import { statusCommand } from './commands/status';
import type { CliIo } from './io';
import { USAGE } from './usage';

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  run: runCommand,
  resume: resumeCommand,
  status: statusCommand,
  export: exportCommand,
};

/** Exit codes: 0 done, 1 the run or command failed, 2 bad input (nothing was written). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`error: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (err) {
    if (err instanceof InputError) {
      io.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`error: ${errorMessage(err)}\n`);
    return 1;
  }
}
