/**
 * Path rules and chroot mapping, as the C client and the server apply them (PathUtils.validatePath;
 * the C client's prepend_string / sub_string for the chroot).
 */

/** Why `path` breaks ZooKeeper's path rules, or undefined when it is fine. */
export function pathProblem(path: string, sequential = false): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'path must not be empty';
  if (path[0] !== '/') return 'path must start with /';
  if (path.length === 1) return undefined;
  // A sequential create may end in '/': the server appends the counter.
  const checked = sequential ? `${path}0` : path;
  if (checked.endsWith('/')) return 'path must not end with /';
  const segments = checked.slice(1).split('/');
  for (const segment of segments) {
    if (segment.length === 0) return 'empty node name';
    if (segment === '.' || segment === '..') return 'relative paths not allowed';
  }
  for (let i = 0; i < checked.length; i++) {
    const c = checked.charCodeAt(i);
    if (
      c === 0 ||
      (c > 0x00 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      return `invalid character at ${i}`;
    }
  }
  return undefined;
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The chroot of a connect string (`host:port/app` -> `/app`), '' for none or `/`. */
export function chrootOf(connectString: string): string {
  // `memory://name/app` names an embedded server: its chroot follows the name.
  const hosts = connectString.replace(/^memory:\/\//, 'memory:');
  const slash = hosts.indexOf('/');
  if (slash === -1) return '';
  const chroot = hosts.slice(slash);
  return chroot === '/' ? '' : chroot.replace(/\/+$/, '');
}

/** Client path -> server path. */
export function toServer(chroot: string, path: string): string {
  if (chroot === '') return path;
  return path === '/' ? chroot : chroot + path;
}

/** Server path -> client path (the chroot itself is '/'). */
export function toClient(chroot: string, path: string): string {
  if (chroot === '') return path;
  if (path === chroot) return '/';
  return path.startsWith(`${chroot}/`) ? path.slice(chroot.length) : path;
}
