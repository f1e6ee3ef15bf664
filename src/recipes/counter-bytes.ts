/**
 * Internal: Curator's SharedCount layout, shared by count$, trySet and increment: the node holds the
 * count as a 4-byte big-endian signed int (Java's `ByteBuffer.putInt`), versioned by the node's version.
 */
import { InvalidArgumentError } from '../errors.js';

export function encodeCount(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
}

/** The count, or undefined for data that is not 4 bytes (not a counter). */
export function decodeCount(data: Buffer): number | undefined {
  return data.length === 4 ? data.readInt32BE(0) : undefined;
}

export function validateCount(value: unknown, argument: string): number {
  if (!Number.isInteger(value) || (value as number) < -0x80000000 || (value as number) > 0x7fffffff) {
    throw new InvalidArgumentError(argument, 'must be a 32-bit signed integer', value);
  }
  return value as number;
}
