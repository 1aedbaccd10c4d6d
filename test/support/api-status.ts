// The HTTP status a Kubernetes API call ended with (200 when it succeeded), for RBAC assertions.
import { ApiException } from '@kubernetes/client-node';

export async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}
