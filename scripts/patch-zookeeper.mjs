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
// 3. A leak: every watch registration allocates a callback that is never freed: not after it fired,
//    nor when the read failed and the C client never armed it. Each one pins a JS function forever.
//    The fix frees a watcher after its (one-shot) node event, and when its read's reply shows the C
//    client did not arm it (getData/getChildren: any error; exists: any error but NoNode).
// 4. A truncation: create's TTL goes through a 32-bit int, so a TTL above 2^31 ms fails with BadArguments
//    and one above 2^32 silently wraps (2^32 + 5 becomes 5 ms). The C client takes 64 bits; so does the
//    patched binding (the server's maximum is 2^40 - 1).
// 5. A use-after-free in (3) as first written: its bookkeeping keyed watchers by path alone, across
//    handles, so one client's removeWatches freed another client's callbacks on the same path, and that
//    watch's next event aborted the process (Nan::ObjectWrap::Unwrap assertion). Keys now name the
//    handle, and a closed handle's armed callbacks are freed.
// 6. A cost: by default the C client resolves the connect string's host names (getaddrinfo: a netlink
//    socket, /etc/hosts, /etc/resolv.conf) on every zookeeper_interest() call, which the binding makes
//    after every socket event: several syscalls and file reads per request and per reply. The patched
//    binding sets the resolution delay to -1: names are resolved when connecting (and after a
//    connection loss), as the Java client does, not on every request.
//    Measured here (sequential exists() on one local server, same quiet machine, with and without):
//    ~270 -> ~180 us a round trip, ~110 -> ~55 us of CPU per request.
//    (Not patched: the binding also stops and restarts its libuv poll after every socket event, an
//    epoll DEL and ADD. Keeping the poll running broke reconnection: a new socket often gets the old
//    one's fd number, epoll had dropped the closed one, and the client went deaf until a timer woke
//    it: in test/ensemble.test.ts the pause after a leader kill went from 3.4 s to 6.8 s, and once
//    past the operations' retries.)
// 7. A missing call: create2 (ZooKeeper 3.5+: the reply carries the new node's Stat) with the caller's
//    ACL. The binding's creates always send the open ACL and answer only the path, so a node could not
//    be created with restricted permissions (a window of open access until a setACL), and a recipe had
//    to read its new node back for its czxid (the fencing token): one request more per acquisition.
// Idempotent: each patch carries a marker and is applied once.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const patches = [
  {
    marker: '/* rxzk: resolve hosts on connect only */',
    find: '            return false;\n        }\n        Ref();\n',
    replace:
      '            return false;\n        }\n' +
      '        zoo_set_servers_resolution_delay(zhandle, -1); /* rxzk: resolve hosts on connect only */\n' +
      '        Ref();\n',
  },
  {
    marker: '/* rxzk: forget closed handle */',
    find: '            zookeeper_close(zhandle);\n',
    replace:
      '            zookeeper_close(zhandle);\n            rxzk_forget_handle(zhandle); /* rxzk: forget closed handle */\n',
  },
  {
    marker: '/* rxzk: 64-bit ttl */',
    find: '        int32_t ttl = toInt(info[3]);\n',
    replace:
      '        int64_t ttl = (int64_t) Nan::To<double>(info[3]).FromMaybe(0); /* rxzk: 64-bit ttl */\n',
  },
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
        // The keys of the watchers to free once the reply comes (void_completion).
        data->data = new std::string[2]{ (_type & 2) ? rxzk_key(zk->zhandle, "d:", *_path) : std::string(),
                                          (_type & 1) ? rxzk_key(zk->zhandle, "c:", *_path) : std::string() };

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
  {
    // The marker must occur in the replacement itself, or every run would apply the patch again.
    marker: '/* rxzk: watcher bookkeeping.',
    find: '#include "zk_log.h"\n',
    replace: `#include "zk_log.h"
#include <string>
#include <unordered_map>
/* rxzk: watcher bookkeeping. A watcher callback is pending from its aw_* call until the reply says
   whether the C client armed it; armed, it lives until its node event or a removeWatches of its path. */
static std::unordered_map<const void*, std::pair<Nan::Callback*, std::string>> rxzk_pending;
static std::unordered_map<Nan::Callback*, std::string> rxzk_armed;
static std::unordered_multimap<std::string, Nan::Callback*> rxzk_by_key;
// Keys name the handle too: two clients of one process may watch the same path, and one's
// removeWatches must never free the other's callbacks (that was a use-after-free: an abort in Unwrap).
static std::string rxzk_key(const void *zh, const char *kind, const char *path) {
    return std::to_string((uintptr_t) zh) + "|" + kind + path;
}
static void rxzk_remember(const void *cb, Nan::Callback *watcher, const void *zh, const char *kind, const char *path) {
    rxzk_pending[cb] = std::make_pair(watcher, rxzk_key(zh, kind, path));
}
// A closed handle's C client drops its watchers without calling them: free what it still had armed.
static void rxzk_forget_handle(const void *zh) {
    const std::string prefix = std::to_string((uintptr_t) zh) + "|";
    for (auto k = rxzk_by_key.begin(); k != rxzk_by_key.end();) {
        if (k->first.compare(0, prefix.size(), prefix) == 0) {
            rxzk_armed.erase(k->second);
            delete k->second;
            k = rxzk_by_key.erase(k);
        } else {
            ++k;
        }
    }
}
static void rxzk_settle_watcher(const void *cb, bool armed) {
    auto it = rxzk_pending.find(cb);
    if (it == rxzk_pending.end()) return;
    Nan::Callback *watcher = it->second.first;
    if (armed) {
        rxzk_armed[watcher] = it->second.second;
        rxzk_by_key.emplace(it->second.second, watcher);
    } else {
        delete watcher;
    }
    rxzk_pending.erase(it);
}
static void rxzk_fired(Nan::Callback *watcher) {
    auto it = rxzk_armed.find(watcher);
    if (it != rxzk_armed.end()) {
        auto range = rxzk_by_key.equal_range(it->second);
        for (auto k = range.first; k != range.second; ++k) {
            if (k->second == watcher) { rxzk_by_key.erase(k); break; }
        }
        rxzk_armed.erase(it);
    }
    delete watcher;
}
static void rxzk_removed(const std::string &key) {
    auto range = rxzk_by_key.equal_range(key);
    for (auto k = range.first; k != range.second; ++k) {
        rxzk_armed.erase(k->second);
        delete k->second;
    }
    rxzk_by_key.erase(range.first, range.second);
}
`,
  },
  {
    marker: '/* rxzk: settle removed watchers */',
    find: '        if (d->type == ZOO_SETACL_OP) {\n',
    replace: `        if (d->type == ZOO_REMOVE_WATCHES) { /* rxzk: settle removed watchers */
            // The C client dropped them from its tables without calling them: free them here, at the
            // reply (not at the request: an event may still reach them until the server has removed them).
            std::string *keys = (std::string *) d->data;
            if (rc == ZOK) for (int i = 0; i < 2; i++) if (!keys[i].empty()) rxzk_removed(keys[i]);
            delete[] keys;
            d->data = NULL;
        }
        if (d->type == ZOO_SETACL_OP) {
`,
  },
  ...[
    ['zoo_awexists(', 'd:'],
    ['zoo_awget(', 'd:'],
    ['zoo_awget_children(', 'c:'],
    ['zoo_awget_children2(', 'c:'],
  ].map(([call, kind]) => ({
    marker: `/* rxzk: remember ${call} */`,
    find: `        METHOD_EPILOG(${call}zk->zhandle, *_path,`,
    replace: `        rxzk_remember(cb, cbw, zk->zhandle, "${kind}", *_path); /* rxzk: remember ${call} */\n        METHOD_EPILOG(${call}zk->zhandle, *_path,`,
  })),
  {
    marker: '/* rxzk: free fired watcher */',
    find: '        WATCHER_PROLOG(4);\n        WATCHER_CALLBACK_EPILOG();\n',
    replace:
      '        WATCHER_PROLOG(4);\n        WATCHER_CALLBACK_EPILOG();\n' +
      '        if (type != ZOO_SESSION_EVENT) rxzk_fired(callback); /* rxzk: free fired watcher */\n',
  },
  {
    marker: '/* rxzk: settle stat watcher */',
    find: '        argv[2] = rc == ZOK ? zkk->createStatObject (stat) : Nan::Null().As<Object>();\n\n        CALLBACK_EPILOG();\n',
    replace:
      '        argv[2] = rc == ZOK ? zkk->createStatObject (stat) : Nan::Null().As<Object>();\n\n' +
      '        rxzk_settle_watcher(cb, rc == ZOK || rc == ZNONODE); /* rxzk: settle stat watcher */\n' +
      '        CALLBACK_EPILOG();\n',
  },
  {
    marker: '/* rxzk: settle data watcher */',
    find: '            argv[3] = Nan::Null().As<Object>();\n        }\n\n        CALLBACK_EPILOG();\n',
    replace:
      '            argv[3] = Nan::Null().As<Object>();\n        }\n\n' +
      '        rxzk_settle_watcher(cb, rc == ZOK); /* rxzk: settle data watcher */\n' +
      '        CALLBACK_EPILOG();\n',
  },
  {
    marker: '/* rxzk: settle children watcher */',
    find: '        argv[3] = (stat != 0 ? zkk->createStatObject (stat) : Nan::Null().As<Object>());\n\n        CALLBACK_EPILOG();\n',
    replace:
      '        argv[3] = (stat != 0 ? zkk->createStatObject (stat) : Nan::Null().As<Object>());\n\n' +
      '        rxzk_settle_watcher(cb, rc == ZOK); /* rxzk: settle children watcher */\n' +
      '        CALLBACK_EPILOG();\n',
  },
  {
    marker: '/* rxzk: create2 */',
    find: '    static void ASync(const Nan::FunctionCallbackInfo<Value>& info) {\n',
    replace: `    /* rxzk: create2 */
    static void rxzk_string_stat_completion (int rc, const char *value, const struct Stat *stat, const void *cb) {
        if (value == 0) {
            value = "null";
        }
        CALLBACK_PROLOG(4);
        argv[2] = LOCAL_STRING(value);
        argv[3] = (rc == ZOK && stat != 0) ? zkk->createStatObject (stat) : Nan::Null().As<Object>();
        CALLBACK_EPILOG();
    }

    // a_create2(path, data, flags, ttl, acl, cb): ttl < 0 for modes without one; acl an array of
    // { perm, scheme, auth } or null for the open ACL. cb(rc, message, path, stat).
    static void ACreate2(const Nan::FunctionCallbackInfo<Value>& info) {
        A_METHOD_PROLOG(6);

        Nan::Utf8String _path (toString(info[0]));
        uint32_t flags = toUint(info[2]);
        int64_t ttl = (int64_t) Nan::To<double>(info[3]).FromMaybe(-1);
        struct ACL_vector *aclv = info[4]->IsArray() ? zk->createAclVector(Local<Array>::Cast(info[4])) : NULL;
        const struct ACL_vector *acl = aclv ? aclv : &ZOO_OPEN_ACL_UNSAFE;

        int ret = ZINVALIDSTATE;
        if (zk->zhandle) {
            if (Buffer::HasInstance(info[1])) {
                Local<Object> _data = toLocalObj(info[1]);
                ret = zoo_acreate2_ttl(zk->zhandle, *_path, BufferData(_data), BufferLength(_data), acl, flags, ttl, rxzk_string_stat_completion, cb);
            } else {
                Nan::Utf8String _data (toString(info[1]));
                ret = zoo_acreate2_ttl(zk->zhandle, *_path, *_data, _data.length(), acl, flags, ttl, rxzk_string_stat_completion, cb);
            }
        }
        // The request (ACL included) is serialised by the call: the vector is ours to free at once.
        if (aclv) {
            deallocate_ACL_vector(aclv);
            free(aclv);
        }
        // Refused at once: the C client will never call the completion, so its callback is freed here.
        if (ret != ZOK) delete cb;
        RETURN_VALUE(info, Nan::New<Int32>(ret));
    }

    static void ASync(const Nan::FunctionCallbackInfo<Value>& info) {
`,
  },
  {
    marker: '/* rxzk: register create2 */',
    find: '        Nan::SetPrototypeMethod(constructor_template,  "a_sync",  ASync);\n',
    replace:
      '        Nan::SetPrototypeMethod(constructor_template,  "a_sync",  ASync);\n' +
      '        Nan::SetPrototypeMethod(constructor_template,  "a_create2",  ACreate2); /* rxzk: register create2 */\n',
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
