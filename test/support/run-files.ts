/** The files the bridge writes into a run folder besides the results: its report and joined listings. */
const RUN_FOLDER_FILES = /\/(summary\.json|failed\.jsonl|names\.jsonl|report\.html|results-by-key\.jsonl|predictions-by-key\.(jsonl|csv))$/;

/** A key of a run folder that holds a result (not one of the bridge's own files). */
export const isResultKey = (key: string): boolean => !RUN_FOLDER_FILES.test(key);
