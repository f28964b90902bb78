import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { summaryIn, type CliResult } from './cli';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface CliProcess {
  child: ChildProcess;
  /** Resolves once stderr contains `pattern` (false if the process ended or `withinMs` passed first). */
  stderrShows(pattern: RegExp, withinMs: number): Promise<boolean>;
  /** Resolves when the process exits; it is killed if it is still running after `withinMs`. */
  exited(withinMs: number): Promise<CliResult>;
}

/**
 * Runs the real CLI (`bin/bucket-bridge.mjs`) in its own Node process, as a user would, with
 * `nodeArgs` before the script (e.g. a `--import` preload).
 */
export function spawnCli(argv: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): CliProcess {
  const child = spawn(process.execPath, [...nodeArgs, 'bin/bucket-bridge.mjs', ...argv], {
    cwd: REPO,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number>((resolve) => child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return {
    child,
    stderrShows: (pattern, withinMs) =>
      new Promise((resolve) => {
        const done = (seen: boolean) => {
          clearTimeout(timer);
          child.stderr!.off('data', check);
          resolve(seen);
        };
        const check = () => pattern.test(stderr) && done(true);
        const timer = setTimeout(() => done(false), withinMs);
        child.stderr!.on('data', check);
        void exit.then(() => done(pattern.test(stderr)));
        check();
      }),
    exited: async (withinMs) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), withinMs);
      const code = await exit;
      clearTimeout(timer);
      return { code, stdout, stderr, summary: summaryIn(stdout) };
    },
  };
}
