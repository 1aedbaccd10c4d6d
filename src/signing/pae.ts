// DSSE v1 pre-authentication encoding: what is actually signed, so that the payload type is
// covered by the signature. Lengths are decimal byte counts, not character counts.
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const header = `DSSEv1 ${type.length} ${payloadType} ${payload.length} `;
  return Buffer.concat([Buffer.from(header, 'utf8'), payload]);
}
