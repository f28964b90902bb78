import { text } from 'node:stream/consumers';
import { MIRROR_FOLDER } from '../results/mirror-key';
import type { ObjectStore } from '../storage/port';
import { writeJsonl } from './summary';

/**
 * Joins the per-object JSON results under a run folder into one JSONL file next to them, one
 * result read at a time. The run's own report files and the mirror layout's copies are not results.
 */
export async function combineJsonResults(dest: ObjectStore, folder: string, fileName: string): Promise<void> {
  async function* results() {
    for await (const page of dest.list(folder)) {
      for (const o of page.objects) {
        if (!o.key.endsWith('.json') || o.key === `${folder}summary.json` || o.key.startsWith(`${folder}${MIRROR_FOLDER}`)) continue;
        yield JSON.parse(await text(await dest.read(o.key)));
      }
    }
  }
  await writeJsonl(dest, `${folder}${fileName}`, results());
}
