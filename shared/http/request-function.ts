import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Node's request function for an http(s) URL; undefined for any other scheme. */
export function requestFunctionFor(url: URL): typeof httpRequest | undefined {
  if (url.protocol === 'https:') return httpsRequest;
  if (url.protocol === 'http:') return httpRequest;
  return undefined;
}
