/**
 * Internal: what an election node holds, shared by leadership (writes it) and leader$ (reads it).
 *
 * Curator's LeaderLatch writes the participant id as the node's data (UTF-8), and reads it back as the
 * leader's id: so the id alone is the node's data, and a Curator process sees our id. Extra data, when
 * a candidate has some, follows the id after a NUL byte (ids may not contain one): a Curator process
 * would show it as part of the id, so elections shared with Curator should not use `data`.
 */
import { InvalidArgumentError } from '../errors.js';
import { validateData } from '../session/validate.js';

/** The marker of LeaderLatch node names: `_c_<uuid>-latch-NNNNNNNNNN`. */
export const LATCH = 'latch-';

export function validateId(id: unknown, argument: string): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidArgumentError(argument, 'must be a non-empty string', id);
  }
  if (id.includes('\u0000')) throw new InvalidArgumentError(argument, 'must not contain a NUL character', id);
  return id;
}

/** The node's data for `id` and optional `data` (named `argument` in errors). */
export function encodeParticipant(id: string, data: unknown, argument = 'options.data'): Uint8Array {
  const head = Buffer.from(id, 'utf8');
  if (data === undefined) return validateData(head, argument);
  const tail = validateData(data, argument);
  return validateData(Buffer.concat([head, Buffer.from([0]), tail]), argument);
}

export function decodeParticipant(bytes: Buffer): { id: string; data: Buffer } {
  const nul = bytes.indexOf(0);
  if (nul === -1) return { id: bytes.toString('utf8'), data: Buffer.alloc(0) };
  return { id: bytes.subarray(0, nul).toString('utf8'), data: bytes.subarray(nul + 1) };
}
