import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface QueuedMessage {
  queue: string;
  messageId: string;
  body: string;
  delaySeconds: number;
  sentAt: number;
}

export interface FakeAws {
  endpoint: string;
  queueUrl(name: string): string;
  /** Messages sent so far and not yet taken, in order. */
  take(queue?: string): QueuedMessage[];
  pending(): QueuedMessage[];
  putSecret(id: string, value: string): void;
  secretReads(): number;
  close(): Promise<void>;
}

/**
 * SQS (SendMessageBatch) and Secrets Manager (GetSecretValue) on loopback, speaking the AWS JSON
 * 1.0/1.1 protocols the SDK v3 clients use, so the real clients run against it.
 */
export async function startFakeAws(): Promise<FakeAws> {
  let messages: QueuedMessage[] = [];
  const secrets = new Map<string, string>();
  let reads = 0;
  const server: Server = createServer(async (req, res) => {
    const body = JSON.parse((await text(req)) || '{}');
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target === 'AmazonSQS.SendMessageBatch') {
      const queue = String(body.QueueUrl).split('/').at(-1)!;
      const successful = (body.Entries as Array<{ Id: string; MessageBody: string; DelaySeconds?: number }>).map((e) => {
        const messageId = randomUUID();
        messages.push({ queue, messageId, body: e.MessageBody, delaySeconds: e.DelaySeconds ?? 0, sentAt: Date.now() });
        return { Id: e.Id, MessageId: messageId, MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex') };
      });
      return reply(res, 200, { Successful: successful, Failed: [] }, 'application/x-amz-json-1.0');
    }
    if (target === 'secretsmanager.GetSecretValue') {
      reads++;
      const value = secrets.get(body.SecretId);
      if (value === undefined) return reply(res, 400, { __type: 'ResourceNotFoundException', message: 'no such secret' }, 'application/x-amz-json-1.1');
      return reply(res, 200, { ARN: body.SecretId, Name: body.SecretId, SecretString: value }, 'application/x-amz-json-1.1');
    }
    reply(res, 400, { __type: 'UnknownOperationException', message: target }, 'application/x-amz-json-1.0');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    queueUrl: (name) => `${endpoint}/000000000000/${name}`,
    take: (queue) => {
      const taken = messages.filter((m) => queue === undefined || m.queue === queue);
      messages = messages.filter((m) => !taken.includes(m));
      return taken;
    },
    pending: () => [...messages],
    putSecret: (id, value) => void secrets.set(id, value),
    secretReads: () => reads,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function reply(res: ServerResponse, status: number, body: unknown, contentType: string) {
  res.writeHead(status, { 'content-type': contentType }).end(JSON.stringify(body));
}

async function text(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
