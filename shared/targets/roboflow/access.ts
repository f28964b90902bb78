import { keyAccepted } from '../access';
import type { AccessProblem } from '../port';
import type { RoboflowClient } from './client';

/**
 * Roboflow's `GET /` answers which workspace a key belongs to: a refused key, a key that names no
 * workspace, or a workspace other than the run's is caught before anything is submitted.
 */
export async function roboflowAccess(client: RoboflowClient): Promise<AccessProblem | undefined> {
  let owner: string | undefined;
  const refused = await keyAccepted('Roboflow', async () => (owner = await client.workspaceOfKey()));
  if (refused) return refused;
  if (owner === undefined) return { setting: 'api-key', expected: 'a private Roboflow API key (GET / names no workspace for this one)' };
  if (owner !== client.workspace) {
    return { setting: 'workspace', expected: `the workspace the API key belongs to ("${owner}")`, received: client.workspace };
  }
  return undefined;
}
