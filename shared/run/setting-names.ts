import type { TargetSpec } from '../state/run-record';

/** What each setting the preflight checks is called where the user set it: a flag, a variable, a config field. */
export interface SettingNames {
  source: string;
  dest: string;
  apiKey: string;
  /** The workspace (Roboflow, Extend) or project (LlamaCloud) the key acts in. */
  workspace: string;
}

const CLI_TARGET_SETTINGS: Record<TargetSpec['name'], Pick<SettingNames, 'apiKey' | 'workspace'>> = {
  roboflow: { apiKey: 'ROBOFLOW_API_KEY', workspace: '--workspace' },
  extend: { apiKey: 'EXTEND_API_KEY', workspace: 'EXTEND_WORKSPACE_ID' },
  llamacloud: { apiKey: 'LLAMA_CLOUD_API_KEY', workspace: 'LLAMA_CLOUD_PROJECT_ID' },
};

const DEPLOYED_WORKSPACE: Record<TargetSpec['name'], string> = {
  roboflow: 'target.workspace',
  extend: 'target.workspaceId',
  llamacloud: 'target.projectId',
};

/** The CLI's flags and environment variables. */
export function cliSettingNames(target: TargetSpec['name']): SettingNames {
  return { source: '--source', dest: '--dest', ...CLI_TARGET_SETTINGS[target] };
}

/** The deployment's configuration fields and secret, for runs of one configured source. */
export function deployedSettingNames(sourceId: string, target: TargetSpec['name']): SettingNames {
  return {
    source: `sources[id=${sourceId}]`,
    dest: 'destination',
    apiKey: 'the API key secret (TARGET_API_KEY_SECRET_ARN)',
    workspace: DEPLOYED_WORKSPACE[target],
  };
}
