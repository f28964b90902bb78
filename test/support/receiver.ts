import { runFollowUp } from '../../shared/run/follow-up';
import type { BridgeDeps } from '../../shared/run/deps';
import { startWebhookServer } from '../../shared/webhook/http-server';

/** The CLI's webhook receiver on 127.0.0.1:`port`, running each follow-up in this process. */
export function startReceiver(deps: BridgeDeps, secret: string, port: number) {
  return startWebhookServer(deps, { secret, host: '127.0.0.1', port, onFollowUp: (f) => runFollowUp(deps, f) });
}
