/** Per processor type naming: endpoints, body fields, object names and id prefixes. */
import type { ProcessorType } from './types';

export interface ProcessorKind {
  type: ProcessorType;
  /** Path segment of the run endpoints (`/extract_runs`). */
  runsPath: string;
  /** Processor field of the batch body and of run objects (`extractor`). */
  processorField: 'extractor' | 'classifier' | 'splitter';
  /** Run field naming the processor version (`extractorVersion`). */
  versionField: string;
  /** List filter on the processor id (`extractorId`). */
  idFilter: string;
  /** `object` of runs, also the prefix of per-run webhook events (`extract_run.processed`). */
  runObject: string;
  runIdPrefix: string;
  versionIdPrefix: string;
}

export const KINDS: Record<ProcessorType, ProcessorKind> = {
  extract: {
    type: 'extract',
    runsPath: 'extract_runs',
    processorField: 'extractor',
    versionField: 'extractorVersion',
    idFilter: 'extractorId',
    runObject: 'extract_run',
    runIdPrefix: 'exr',
    versionIdPrefix: 'exv',
  },
  classify: {
    type: 'classify',
    runsPath: 'classify_runs',
    processorField: 'classifier',
    versionField: 'classifierVersion',
    idFilter: 'classifierId',
    runObject: 'classify_run',
    runIdPrefix: 'clr',
    versionIdPrefix: 'clv',
  },
  split: {
    type: 'split',
    runsPath: 'split_runs',
    processorField: 'splitter',
    versionField: 'splitterVersion',
    idFilter: 'splitterId',
    runObject: 'split_run',
    runIdPrefix: 'spr',
    versionIdPrefix: 'spv',
  },
};

export const ALL_KINDS: readonly ProcessorKind[] = Object.values(KINDS);

export const DEFAULT_PROCESSORS = [
  { id: 'ex_emulated', type: 'extract', versions: ['1.0'] },
  { id: 'cl_emulated', type: 'classify', versions: ['1.0'] },
  { id: 'sp_emulated', type: 'split', versions: ['1.0'] },
] as const;
