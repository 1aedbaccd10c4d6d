import type { Readable } from 'node:stream';
import { StorageError } from './errors.ts';

export function tooLarge(uri: string, maxBytes: number, size?: number): StorageError {
  const actual = size === undefined ? `more than ${maxBytes}` : String(size);
  return new StorageError('TOO_LARGE', `${uri}: object is ${actual} bytes, limit is ${maxBytes}`);
}

/** Collects a stream, refusing (and closing it) as soon as it passes `maxBytes`. */
export async function readBounded(stream: Readable, uri: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge(uri, maxBytes);
      chunks.push(chunk);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, size);
}
