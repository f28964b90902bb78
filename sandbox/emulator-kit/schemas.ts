import { z } from 'zod';

/** An absolute http(s) URL (what the emulated APIs accept for file and webhook URLs). */
export const httpUrl = z.string().refine((value) => {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an absolute http(s) URL');

/** Parses `value` or throws the API's 400 (`invalid`) listing every problem with its JSON path. */
export function parseOr<S extends z.ZodType>(schema: S, value: unknown, what: string, invalid: (message: string) => Error): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  throw invalid(`invalid ${what}: ${problems.join('; ')}`);
}
