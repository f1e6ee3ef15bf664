#!/usr/bin/env node
// Patches a crash in the `zookeeper` binding and rebuilds it (the binding builds from source anyway).
//
// The bug: acl_completion() frees the ACL vector unconditionally, but the C client passes NULL when
// getACL fails (no node, no auth, connection loss), so any failing getACL segfaults the process. The
// fix guards the free. rxzk's native adapter refuses getACL (UnimplementedError) on an unpatched copy
// rather than risk the crash, so this script is what makes getACL available.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const MARKER = '/* rxzk: guarded acl free */';
const UNPATCHED = '        deallocate_ACL_vector(acl);\n';
const PATCHED = `        if (acl != NULL) deallocate_ACL_vector(acl); ${MARKER}\n`;

const require = createRequire(import.meta.url);
let packageDir;
try {
  packageDir = dirname(require.resolve('zookeeper/package.json'));
} catch {
  console.warn('[rxzk] the zookeeper package is not installed; nothing to patch');
  process.exit(0);
}
const source = join(packageDir, 'src', 'node-zk.cpp');
const text = readFileSync(source, 'utf8');
if (text.includes(MARKER)) {
  console.log('[rxzk] zookeeper binding already patched');
  process.exit(0);
}
if (!text.includes(UNPATCHED)) {
  console.warn('[rxzk] zookeeper binding source has changed; not patched (getACL stays disabled)');
  process.exit(0);
}
writeFileSync(source, text.replace(UNPATCHED, PATCHED));
console.log('[rxzk] patched zookeeper binding (guarded ACL free); rebuilding it');
// Rebuild only the addon: the C client library it links is already built by the package's install.
const bundled = join(
  dirname(process.execPath),
  '..',
  'lib',
  'node_modules',
  'npm',
  'node_modules',
  'node-gyp',
  'bin',
  'node-gyp.js',
);
const nodeGyp = process.env.npm_config_node_gyp ?? (existsSync(bundled) ? bundled : undefined);
// Same headers as the binding's own build: npm passes its nodedir setting only to scripts it runs.
const nodedir =
  process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node.h') ? '/usr' : undefined);
const gypArgs = ['rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const [command, args] = nodeGyp
  ? [process.execPath, [nodeGyp, ...gypArgs]]
  : ['npx', ['--yes', 'node-gyp', ...gypArgs]];
execFileSync(command, args, { cwd: packageDir, stdio: 'inherit' });
