import { main } from '../../cli/main';
import { RunSummary } from '../../shared/pipeline/summary';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  summary?: RunSummary;
}

/** Runs the CLI in-process with its own environment, capturing both output streams. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    env,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr, summary: summaryIn(stdout) };
}

/** The run summary a command printed on stdout, if it printed one. */
export function summaryIn(stdout: string): RunSummary | undefined {
  const start = stdout.indexOf('{');
  if (start === -1) return undefined;
  try {
    const parsed = RunSummary.safeParse(JSON.parse(stdout.slice(start)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
