// Kubernetes AdmissionReview (admission.k8s.io/v1) in and out: only what a validating webhook
// needs. The answer always echoes the request's uid, or the API server discards it.

export interface ReviewRequest {
  readonly uid: string;
  readonly kind: { group?: string; kind?: string };
  readonly operation: string;
  readonly namespace: string;
  readonly name: string;
  readonly object: unknown;
  /** The object before an UPDATE (null otherwise). */
  readonly oldObject: unknown;
}

export function parseReview(body: unknown): ReviewRequest {
  // Checked field by field below; the API server writes it, but a wrong caller must get a 400, not a crash.
  const review = body as { apiVersion?: unknown; kind?: unknown; request?: { uid?: unknown; kind?: { group?: string; kind?: string }; operation?: unknown; namespace?: unknown; name?: unknown; object?: unknown; oldObject?: unknown } } | null;
  if (review?.kind !== 'AdmissionReview' || review.apiVersion !== 'admission.k8s.io/v1') throw new Error('expected an admission.k8s.io/v1 AdmissionReview');
  const request = review.request;
  if (!request || typeof request.uid !== 'string') throw new Error('the AdmissionReview has no request.uid');
  return {
    uid: request.uid,
    kind: request.kind ?? {},
    operation: typeof request.operation === 'string' ? request.operation : '',
    namespace: typeof request.namespace === 'string' ? request.namespace : '',
    name: typeof request.name === 'string' ? request.name : '',
    object: request.object,
    oldObject: request.oldObject ?? null,
  };
}

export function reviewResponse(uid: string, allowed: boolean, message?: string): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid, allowed, ...(allowed ? {} : { status: { code: 403, reason: 'Forbidden', message } }) },
  };
}
