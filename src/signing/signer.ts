// The signing role the operator sees: one DSSE signature over a payload, packaged as a Sigstore
// bundle (with whatever certificate and transparency-log entries the implementation adds).
import type { Bundle } from '@sigstore/bundle';

export interface Signer {
  sign(payload: Buffer, payloadType: string): Promise<Bundle>;
}
