/**
 * ContainerManager.getCandidates: which container and TTL nodes the periodic check deletes.
 * - a container that is empty and has had a child (cversion > 0): a new container is not reaped
 *   before its first child arrives;
 * - a TTL node that is empty and was not modified for longer than its TTL.
 */
import { kindOf, ttlOf, type DataTree } from './tree.js';

export function reapCandidates(tree: DataTree, now: number): string[] {
  const candidates: string[] = [];
  for (const path of tree.containers) {
    const n = tree.get(path);
    if (n && n.children.size === 0 && n.cversion > 0) candidates.push(path);
  }
  for (const path of tree.ttls) {
    const n = tree.get(path);
    if (!n || n.children.size > 0 || kindOf(n.owner) !== 'ttl') continue;
    const ttl = ttlOf(n.owner);
    if (ttl !== 0 && now - n.mtime > ttl) candidates.push(path);
  }
  return candidates;
}
