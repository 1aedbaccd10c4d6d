// DSSE v1 pre-authentication encoding — what is actually signed, so that the payload type is
// covered too: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths as ASCII decimal byte
// counts (github.com/secure-systems-lab/dsse, protocol.md). Written here rather than loaded from
// @sigstore/core, which a signer would otherwise load whole; cosign, securesystemslib and
// @sigstore/verify check every signature the tests make with it.
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `, 'ascii'), type, Buffer.from(` ${body.length} `, 'ascii'), body]);
}
