import { safeRelativePath } from '../pipeline/safe-path';
import type { ExportTaskResult } from '../state/run-record';

/** Result files the report lists one by one; the rest are counted. */
export const REPORT_RESULT_FILES = 100;

/** One result file the target produced, as copied into the run folder. */
export interface ResultFile {
  /** `<part>/<file name>`, relative to the run folder. */
  path: string;
  part: string;
  /** Objects stored for it: 1, or an archive's members once unpacked. */
  files: number;
  bytes: number;
  failure?: { type: string; reason: string };
}

export interface ResultFileList {
  files: ResultFile[];
  /** Result files in all (listed or not). */
  total: number;
}

/**
 * The first {@link REPORT_RESULT_FILES} export outcomes (failed ones first, so a failure is never
 * hidden behind the limit when fewer failures than that exist), read as a stream with a bounded
 * list kept, and how many there are in all.
 */
export async function listResultFiles(results: AsyncIterable<ExportTaskResult>, limit = REPORT_RESULT_FILES): Promise<ResultFileList> {
  const failed: ResultFile[] = [];
  const copied: ResultFile[] = [];
  let total = 0;
  for await (const r of results) {
    total++;
    const list = r.failure ? failed : copied;
    if (list.length < limit) list.push({ path: resultPath(r), part: r.part, files: r.files, bytes: r.bytes, failure: r.failure });
  }
  return { files: [...failed, ...copied].slice(0, limit), total };
}

/** Task ids are `<batch>/<part>/<file name>`; files are stored under `<part>/<file name>` made safe. */
function resultPath(r: ExportTaskResult): string {
  const marker = `/${r.part}/`;
  const at = r.taskId.indexOf(marker);
  const fileName = at === -1 ? r.taskId : r.taskId.slice(at + marker.length);
  return `${safeRelativePath(r.part) ?? 'output'}/${safeRelativePath(fileName) ?? fileName}`;
}
