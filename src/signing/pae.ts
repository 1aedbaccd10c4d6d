// DSSE v1 pre-authentication encoding — what is actually signed, so that the payload type is
// covered too — from @sigstore/core, the implementation sigstore-js verifies with.
import { dsse } from '@sigstore/core';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  return dsse.preAuthEncoding(payloadType, Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
}
