/** Progress counters the pipeline reports as it goes; the CLI draws them, Lambda ignores them. */
export type ProgressStage = 'listed' | 'signed' | 'exported-files' | 'exported-bytes';

export type ProgressListener = (stage: ProgressStage, increment: number) => void;

export const noProgress: ProgressListener = () => {};
