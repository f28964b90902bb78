import type { RunSummary } from '../pipeline/summary';
import type { ReasonGroup } from './reason-groups';
import type { ResultFileList } from './result-files';

/** Everything the run report shows, gathered (bounded) before the page is rendered. */
export interface RunReport {
  summary: RunSummary;
  skipped: ReasonGroup[];
  failed: ReasonGroup[];
  results: ResultFileList;
  /** Files of the run folder the report links to, by name relative to it. */
  files: string[];
  generatedAt: string;
}
