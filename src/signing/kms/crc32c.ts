// CRC32C (Castagnoli), the checksum of Cloud KMS's end-to-end integrity fields, computed by the
// Cloud Storage client's implementation (it checks its own downloads with it). Its value is a
// signed 32-bit number; KMS sends the unsigned one.
import { CRC32C } from '@google-cloud/storage';

export function crc32c(data: Uint8Array): number {
  const crc = new CRC32C();
  crc.update(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return crc.valueOf() >>> 0;
}
