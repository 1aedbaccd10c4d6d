// The serving gate's HTTPS endpoint for the API server: POST /validate takes an AdmissionReview
// for an InferenceService and answers allowed, or refused with every reason in one message;
// GET /healthz for the kubelet. Each review ends within its deadline (the webhook's own timeout is
// longer), and anything that cannot be decided is refused: the gate fails closed.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decide, type SummaryCheck } from './decide.ts';
import { parseReview, reviewResponse, type ReviewRequest } from './review.ts';
import { readInferenceService } from './sources.ts';

export interface GateServerOptions {
  readonly port: number;
  readonly host: string;
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly check: SummaryCheck;
  /** A review's deadline; keep it under the webhook's timeoutSeconds. */
  readonly deadlineMs: number;
  readonly log: (fields: Record<string, unknown>, message: string) => void;
}

export interface GateServer {
  readonly port: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024;
const GATED_KINDS = ['InferenceService', 'TrainedModel'];

export async function startGateServer(options: GateServerOptions): Promise<GateServer> {
  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    handle(req, res, options).catch((err: unknown) => send(res, 500, { error: (err as Error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: GateServerOptions): Promise<void> {
  const path = new URL(req.url ?? '/', 'https://localhost').pathname;
  if (path === '/healthz' && req.method === 'GET') return send(res, 200, { ok: true });
  if (path !== '/validate' || req.method !== 'POST') return send(res, 404, { error: 'not found' });
  let review: ReviewRequest;
  try {
    review = parseReview(JSON.parse((await body(req)).toString('utf8')));
  } catch (err) {
    return send(res, 400, { error: (err as Error).message });
  }
  const answer = await judge(review, options);
  options.log({ namespace: review.namespace, name: review.name, operation: review.operation, allowed: answer.allowed, ...(answer.message ? { reason: answer.message } : {}) }, answer.allowed ? 'InferenceService admitted' : 'InferenceService refused');
  return send(res, 200, reviewResponse(review.uid, answer.allowed, answer.message));
}

async function judge(review: ReviewRequest, options: GateServerOptions): Promise<{ allowed: boolean; message?: string }> {
  if (!GATED_KINDS.includes(review.kind.kind ?? '') || (review.operation !== 'CREATE' && review.operation !== 'UPDATE')) return { allowed: true };
  if (review.operation === 'UPDATE' && !changesModels(review.object, review.oldObject)) return { allowed: true };
  const signal = AbortSignal.timeout(options.deadlineMs);
  const decision = await Promise.race([
    decide(review.object, options.check, signal),
    new Promise<{ allowed: false; reasons: string[] }>((resolve) => signal.addEventListener('abort', () => resolve({ allowed: false, reasons: [`not decided within ${options.deadlineMs} ms (the verification summaries could not be read in time)`] }), { once: true })),
  ]);
  if (decision.allowed) return { allowed: true };
  return { allowed: false, message: `slsa-ml serving gate refused ${review.namespace}/${review.name}: ${decision.reasons.join('; ')}` };
}

/** Whether an update changes what the InferenceService loads (an update that does not is not re-judged: scaling a served model must not depend on its summary's age). */
export function changesModels(object: unknown, oldObject: unknown): boolean {
  return JSON.stringify(readInferenceService(object)) !== JSON.stringify(readInferenceService(oldObject));
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
