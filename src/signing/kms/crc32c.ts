// CRC32C (Castagnoli), the checksum of Cloud KMS's end-to-end integrity fields. It covers a
// 32-byte digest and a signature of under 100 bytes, so a byte-wise table is plenty, and the KMS
// signer does not load a whole storage client for it. KMS sends the value unsigned.
const POLYNOMIAL = 0x82f63b78; // reflected 0x1EDC6F41

const TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
