/** How a user opts in to plain-http references (local emulators, private endpoints). */
export const HTTP_REFERENCES_OPT_IN = "--allow-http-references, or allowHttpReferences in a deployment's Roboflow target";

/** Scheme and host of a signed URL: all of it that may be shown (the rest carries the signature). */
export function originOf(url: string): string {
  return URL.canParse(url) ? new URL(url).origin : '(not a URL)';
}

function isPlainHttp(url: string): boolean {
  return URL.canParse(url) && new URL(url).protocol === 'http:';
}

/**
 * Roboflow's official client refuses `http://` references URLs before sending them; what the API
 * does with one is not documented, so the bridge refuses them too unless the user opted in. What a
 * sample signed URL should have been, or undefined when it is fine or the user opted in.
 */
export function httpReferencesProblem(url: string, allowHttp: boolean): { expected: string; received: string } | undefined {
  if (allowHttp || !isPlainHttp(url)) return undefined;
  return {
    expected: `https signed URLs (Roboflow's official client refuses http:// references URLs; the API's answer to them is not documented; for a local emulator or a private endpoint opt in with ${HTTP_REFERENCES_OPT_IN})`,
    received: originOf(url),
  };
}

/** The same rule where a run is already under way: the error for a plain-http references URL without the opt-in. */
export function httpReferencesRefusal(url: string, allowHttp: boolean): Error | undefined {
  const problem = httpReferencesProblem(url, allowHttp);
  if (!problem) return undefined;
  return new Error(`the references file is signed as a plain http URL (${problem.received}); Roboflow's official client refuses http:// references URLs; the API's answer to them is not documented; opt in with ${HTTP_REFERENCES_OPT_IN}`);
}
