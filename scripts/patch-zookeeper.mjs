#!/usr/bin/env node
// Patches the `zookeeper` binding and rebuilds it (the binding builds from source on install anyway).
//
// 1. A crash: acl_completion() frees the ACL vector unconditionally, but the C client passes NULL when
//    getACL fails (no node, no auth, connection loss), so any failing getACL segfaults the process.
//    The fix guards the free. rxzk's native adapter refuses getACL (UnimplementedError) on an
//    unpatched copy rather than risk the crash.
// 2. A missing call: the C client can remove a path's watches from the server (removeWatches, ZooKeeper
//    3.5+), but the binding does not expose it. rxzk uses it to drop the server watch when the last
//    stream on a path is gone; without it such a watch stays armed until it fires.
// Idempotent: each patch carries a marker and is applied once.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const patches = [
  {
    marker: '/* rxzk: guarded acl free */',
    find: '        deallocate_ACL_vector(acl);\n',
    replace: '        if (acl != NULL) deallocate_ACL_vector(acl); /* rxzk: guarded acl free */\n',
  },
  {
    marker: '/* rxzk: remove watches */',
    find: '    static void ASync(const Nan::FunctionCallbackInfo<Value>& info) {\n',
    replace: `    /* rxzk: remove watches */
    static void ARemoveAllWatches(const Nan::FunctionCallbackInfo<Value>& info) {
        A_METHOD_PROLOG(4);

        Nan::Utf8String _path (toString(info[0]));
        uint32_t _type = toUint(info[1]);
        bool _local = toBool(info[2]);

        struct completion_data *data = (struct completion_data *) malloc(sizeof(struct completion_data));
        data->cb = cb;
        data->type = ZOO_REMOVE_WATCHES;
        data->data = NULL;

        METHOD_EPILOG(zoo_aremove_all_watches(zk->zhandle, *_path, (ZooWatcherType) _type, _local ? 1 : 0, (void_completion_t *) void_completion, data));
    }

    static void ASync(const Nan::FunctionCallbackInfo<Value>& info) {
`,
  },
  {
    marker: '/* rxzk: register remove watches */',
    find: '        Nan::SetPrototypeMethod(constructor_template,  "a_sync",  ASync);\n',
    replace:
      '        Nan::SetPrototypeMethod(constructor_template,  "a_sync",  ASync);\n' +
      '        Nan::SetPrototypeMethod(constructor_template,  "a_remove_all_watches",  ARemoveAllWatches); /* rxzk: register remove watches */\n',
  },
];

const require = createRequire(import.meta.url);
let packageDir;
try {
  packageDir = dirname(require.resolve('zookeeper/package.json'));
} catch {
  console.warn('[rxzk] the zookeeper package is not installed; nothing to patch');
  process.exit(0);
}
const source = join(packageDir, 'src', 'node-zk.cpp');
let text = readFileSync(source, 'utf8');
let applied = 0;
for (const patch of patches) {
  if (text.includes(patch.marker)) continue;
  if (!text.includes(patch.find)) {
    console.warn(`[rxzk] zookeeper binding source has changed; patch ${patch.marker} not applied`);
    continue;
  }
  text = text.replace(patch.find, patch.replace);
  applied++;
}
if (applied === 0) {
  console.log('[rxzk] zookeeper binding already patched');
  process.exit(0);
}
writeFileSync(source, text);
console.log(`[rxzk] applied ${applied} patch(es) to the zookeeper binding; rebuilding it`);
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
