/**
 * ACL checks as the server makes them (ZooKeeperServer.checkACL, PrepRequestProcessor.fixupACL) with
 * the two providers a default server registers: `digest` and `ip`. Memory clients all come from
 * 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { Code, errorFromCode } from '../../errors.js';
import { Perms, type Acl } from '../../types.js';

/** An authenticated identity of a connection (`ip:127.0.0.1`, `digest:user:hash`). */
export interface Id {
  readonly scheme: string;
  readonly id: string;
}

export const CLIENT_IP = '127.0.0.1';

/** DigestAuthenticationProvider.generateDigest: `user:base64(sha1(user:password))`. */
export function digestId(credentials: string): string {
  const user = credentials.split(':', 1)[0] ?? '';
  return `${user}:${createHash('sha1').update(credentials, 'utf8').digest('base64')}`;
}

/** What `addAuth(scheme, credentials)` adds to the connection; AuthFailed for an unknown scheme. */
export function authenticate(scheme: string, credentials: string): Id {
  if (scheme === 'digest') return { scheme, id: digestId(credentials) };
  if (scheme === 'ip') return { scheme, id: CLIENT_IP };
  throw errorFromCode(Code.AuthFailed);
}

export function addId(ids: Id[], id: Id): void {
  if (!ids.some((i) => i.scheme === id.scheme && i.id === id.id)) ids.push(id);
}

/** Throws NoAuth unless one entry of `acl` grants one of the bits of `perm` to one of `ids`. */
export function checkAcl(acl: readonly Acl[], perm: number, ids: readonly Id[], path: string): void {
  if (acl.length === 0) return;
  if (ids.some((i) => i.scheme === 'super')) return;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    if (entry.scheme === 'world' && entry.id === 'anyone') return;
    for (const id of ids) {
      if (id.scheme !== entry.scheme) continue;
      if (entry.scheme === 'digest' && id.id === entry.id) return;
      if (entry.scheme === 'ip' && ipMatches(entry.id, id.id)) return;
    }
  }
  throw errorFromCode(Code.NoAuth, { path });
}

/** Whether `ids` may READ a node with `acl`. */
export function mayRead(acl: readonly Acl[], ids: readonly Id[]): boolean {
  try {
    checkAcl(acl, Perms.Read, ids, '');
    return true;
  } catch {
    return false;
  }
}

/** Validates an ACL for create/setACL and expands `auth` entries into the caller's identities. */
export function fixupAcl(acl: readonly Acl[], ids: readonly Id[], path: string): Acl[] {
  const unique: Acl[] = [];
  for (const a of acl) {
    if (!unique.some((u) => u.perms === a.perms && u.scheme === a.scheme && u.id === a.id)) unique.push(a);
  }
  if (unique.length === 0) throw errorFromCode(Code.InvalidACL, { path });
  const fixed: Acl[] = [];
  for (const a of unique) {
    if (a.scheme === 'world' && a.id === 'anyone') {
      fixed.push(a);
    } else if (a.scheme === 'auth') {
      // Only providers that authenticate (digest) count; the connection's ip id does not.
      const mine = ids.filter((i) => i.scheme === 'digest');
      if (mine.length === 0) throw errorFromCode(Code.InvalidACL, { path });
      for (const id of mine) fixed.push({ perms: a.perms, scheme: id.scheme, id: id.id });
    } else if (a.scheme === 'digest' && javaSplitLength(a.id) === 2) {
      fixed.push(a);
    } else if (a.scheme === 'ip' && parseIp(a.id) !== undefined) {
      fixed.push(a);
    } else {
      throw errorFromCode(Code.InvalidACL, { path });
    }
  }
  return fixed;
}

/** getACL without ADMIN: digest hashes are masked (`user:x`), as FinalRequestProcessor does. */
export function maskedAcl(acl: readonly Acl[], ids: readonly Id[], path: string): Acl[] {
  try {
    checkAcl(acl, Perms.Admin, ids, path);
    return acl.map((a) => ({ ...a }));
  } catch {
    return acl.map((a) => (a.scheme === 'digest' ? { ...a, id: a.id.replace(/:.*/s, ':x') } : { ...a }));
  }
}

/** `id.split(":").length` in Java (trailing empty strings dropped). */
function javaSplitLength(id: string): number {
  const parts = id.split(':');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.length;
}

/** IPv4 `a.b.c.d[/bits]` as [address, bits]; IPv6 is not modelled. */
function parseIp(text: string): [number, number] | undefined {
  const [address, bitsText] = text.split('/', 2);
  const parts = (address ?? '').split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  return [parts.reduce((n, p) => ((n << 8) | Number(p)) >>> 0, 0), bits];
}

function ipMatches(entry: string, address: string): boolean {
  const want = parseIp(entry);
  const have = parseIp(address);
  if (!want || !have) return false;
  const mask = want[1] === 0 ? 0 : (~0 << (32 - want[1])) >>> 0;
  return (want[0] & mask) >>> 0 === (have[0] & mask) >>> 0;
}
