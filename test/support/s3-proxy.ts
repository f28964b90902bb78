import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ListingFault = 'none' | 'fail' | 'hang';

/**
 * A pass-through proxy in front of the S3 server that can break listings of later pages
 * (requests with a continuation token): answer 500, or never answer (like a Lambda timeout
 * freezing the invocation mid-listing). `afterPages` pages are served before the fault applies.
 */
export async function startS3Proxy(target: string) {
  const upstream = new URL(target);
  let fault: ListingFault = 'none';
  let afterPages = 0;
  let continued = 0;
  const hung: ServerResponse[] = [];
  let faults = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const laterPage = req.method === 'GET' && url.searchParams.get('list-type') === '2' && url.searchParams.has('continuation-token');
    if (laterPage && fault !== 'none' && ++continued > afterPages) {
      faults++;
      req.resume();
      if (fault === 'hang') return void hung.push(res);
      return void res.writeHead(500, { 'content-type': 'application/xml' }).end('<Error><Code>InternalError</Code><Message>disk on fire</Message></Error>');
    }
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arm(kind: ListingFault, pagesFirst = 0) {
      fault = kind;
      afterPages = pagesFirst;
      continued = 0;
    },
    faults: () => faults,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
