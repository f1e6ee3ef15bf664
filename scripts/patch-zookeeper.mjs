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
// 8. A cost: after every socket event the binding stopped and restarted its libuv poll (epoll_ctl DEL,
//    then ADD, a third of them failing: ~4 calls a request). The patched binding leaves the poll running
//    while the session stays connected on the same socket, and changes only its events when they change.
//    A first attempt (keep the poll whenever the fd number stayed the same) broke reconnection: a new
//    socket often gets the old one's fd number, epoll had dropped the closed one, and the client went
//    deaf until a timer woke it (test/ensemble.test.ts: the pause after a leader kill went from 3.4 s to
//    6.8 s, once past the operations' retries). Now the poll is kept only when the C client reports
//    CONNECTED at this and the previous turn: every socket it closes resets its state (cleanup()), and a
//    new one is CONNECTED only after a handshake that takes turns of its own, each restarting the poll.
// 9. A cost: the C client sent each request in two send() calls, its 4-byte length, then its body. The
//    patched client sends both with one sendmsg() (plain sockets; TLS keeps the two writes).
// 7. A missing call: create2 (ZooKeeper 3.5+: the reply carries the new node's Stat) with the caller's
//    ACL. The binding's creates always send the open ACL and answer only the path, so a node could not
//    be created with restricted permissions (a window of open access until a setACL), and a recipe had
//    to read its new node back for its czxid (the fencing token): one request more per acquisition.
// 10. A slow reconnect: when the C client had no socket to watch (fd -1: it waits before trying the
//    servers again, recv_timeout/60), the binding returned without passing on that wait, so its timer
//    kept the interval of the connected session (a sixth of the session timeout): a client of a lone
//    server whose connection dropped took 3.3 s to try again with a 20 s session, instead of 0.3 s.
// 11. A deaf client after a child process: the C client's sockets were not close-on-exec, so a spawned
//     child (a browser, any subprocess) held a copy, and the binding closed a handle's socket before
//     it stopped polling it. epoll forgets a socket only when its last descriptor closes, so the dead
//     socket's registration stayed, reporting events under the fd number a new client's socket reused:
//     that client never connected (found by the dashboard's browser test). The C client's sockets are
//     now SOCK_CLOEXEC (its own build option, which the package did not enable), and a closing handle
//     stops its poll first.
// 12. An abort: a call that sends into a reset connection makes the C client close the socket inside
//     the call (ZOOKEEPER-4210); the handle's poll stayed registered on that fd until its next turn,
//     and another handle whose new socket got the number failed uv_poll_init (UV_EEXIST) and aborted
//     in uv_poll_start (found by the fault matrix's flapping row, ~4 runs in 11). After every call the
//     binding now checks the C client's state: changed, the poll is stopped at once and the loop turns;
//     and a poll that cannot be made is retried, never started.
// 13. A missing call: persistent recursive watches (addWatch, ZooKeeper 3.6+), which the 3.8 C client
//     does not have: one watch on a subtree's root that reports every create, delete and data change
//     below it and stays armed (Curator's CuratorCache rests on it). The C client gets zoo_aadd_watch;
//     a handle that added one also hears every node event on its default watcher (the server sends one
//     notification per event per connection, whatever watches it matched), which the binding passes to
//     JavaScript as it already did for its global watches; removeWatches accepts the persistent watcher
//     types (4, 5), which the C client refused locally (it keeps no table of them), and the binding no
//     longer reads them as data or child watches.
// Patches 1-8, 10, 11 (the close order), 12 and 13's binding half are in the binding (src/node-zk.cpp), 9 and 11 (close-on-exec) in the C client it links (rebuilt when patched).
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
  {
    marker: '/* rxzk: keep the poll while connected */',
    find: `        int rc = zookeeper_interest(zhandle, &fd, &interest, &tv);

        if (zk_io && uv_is_active((uv_handle_t*) zk_io)) {
            uv_poll_stop(zk_io);
        }
`,
    replace: `        int rc = zookeeper_interest(zhandle, &fd, &interest, &tv);

        /* rxzk: keep the poll while connected */
        // Connected now and at the last turn, on the same fd: the same socket (a socket the C client
        // closes resets its state), so the poll keeps running; only changed events are passed on.
        // Anything else takes the full stop and start below, which a new socket needs even when it
        // reuses the old fd number (epoll dropped the old one when it closed).
        int rxzk_state = zoo_state(zhandle);
        bool rxzk_steady = rc == ZOK && fd != -1 && fd == oldFd && zk_io && uv_is_active((uv_handle_t*) zk_io)
            && rxzk_state == ZOO_CONNECTED_STATE && rxzk_last_state == ZOO_CONNECTED_STATE;
        rxzk_last_state = rxzk_state;
        if (rxzk_steady) {
            int steady = (interest & ZOOKEEPER_READ ? UV_READABLE : 0) | (interest & ZOOKEEPER_WRITE ? UV_WRITABLE : 0);
            if (steady != rxzk_events) {
                uv_poll_start(zk_io, steady, &zk_io_cb);
                rxzk_events = steady;
            }
            int64_t steady_delay = tv.tv_sec * 1000 + tv.tv_usec / 1000.;
            uv_timer_start(&zk_timer, &zk_timer_cb, steady_delay, steady_delay);
            return;
        }

        if (zk_io && uv_is_active((uv_handle_t*) zk_io)) {
            uv_poll_stop(zk_io);
        }
`,
  },
  {
    marker: '/* rxzk: poll events started */',
    find: '        uv_poll_start(zk_io, events, &zk_io_cb);\n',
    replace:
      '        uv_poll_start(zk_io, events, &zk_io_cb);\n        rxzk_events = events; /* rxzk: poll events started */\n',
  },
  {
    marker: '/* rxzk: poll state fields */',
    find: '    uv_poll_t* zk_io;\n',
    replace:
      '    uv_poll_t* zk_io;\n    int rxzk_last_state = 0; /* rxzk: poll state fields */\n    int rxzk_events = 0;\n',
  },
  {
    marker: '/* rxzk: honour the reconnect delay */',
    find: `        if (fd == -1 ) {
            if (zk_io) {
                uv_close((uv_handle_t*) zk_io, delete_on_close);
                zk_io = NULL;
            }
            return;
        }
`,
    replace: `        if (fd == -1 ) {
            if (zk_io) {
                uv_close((uv_handle_t*) zk_io, delete_on_close);
                zk_io = NULL;
            }
            /* rxzk: honour the reconnect delay */
            // No socket: the C client waits (recv_timeout/60) before it tries the servers again, and
            // asks to be called after tv. Without this the timer kept the connected session's interval.
            int64_t idle_delay = tv.tv_sec * 1000 + tv.tv_usec / 1000.;
            uv_timer_start(&zk_timer, &zk_timer_cb, idle_delay, idle_delay);
            return;
        }
`,
  },
  {
    marker: '/* rxzk: stop polling before the socket closes */',
    find: `        if (zhandle) {
            LOG_DEBUG("call zookeeper_close(%lp)", zhandle);
            zookeeper_close(zhandle);
`,
    replace: `        if (zhandle) {
            /* rxzk: stop polling before the socket closes */
            // epoll forgets a socket only when its last descriptor closes: stopped after the close
            // (EBADF), a socket a child process still held kept its registration, under a reused number.
            if (zk_io && uv_is_active((uv_handle_t*) zk_io)) uv_poll_stop(zk_io);
            LOG_DEBUG("call zookeeper_close(%lp)", zhandle);
            zookeeper_close(zhandle);
`,
  },
  {
    marker: '/* rxzk: notice a socket closed by a call */',
    find: `#define METHOD_EPILOG(call) \\
        int ret = (zk->zhandle ? (call) : ZINVALIDSTATE); \\
`,
    replace: `#define METHOD_EPILOG(call) \\
        int ret = (zk->zhandle ? (call) : ZINVALIDSTATE); \\
        zk->rxzk_after_call(); /* rxzk: notice a socket closed by a call */ \\
`,
  },
  {
    marker: '/* rxzk: create2 notices a socket closed by it */',
    find: '        if (ret != ZOK) delete cb;\n        RETURN_VALUE(info, Nan::New<Int32>(ret));\n',
    replace:
      '        if (ret != ZOK) delete cb;\n        zk->rxzk_after_call(); /* rxzk: create2 notices a socket closed by it */\n        RETURN_VALUE(info, Nan::New<Int32>(ret));\n',
  },
  {
    marker: '/* rxzk: after a call */',
    find: '    void yield () {\n',
    replace: `    /* rxzk: after a call */
    // A call may have closed the socket (a send into a reset connection, ZOOKEEPER-4210): then stop
    // polling that fd at once, before another socket gets its number (libuv takes one watcher per fd),
    // and let the loop turn at once to connect again.
    void rxzk_after_call() {
        if (is_closed || !zhandle || zoo_state(zhandle) == rxzk_last_state) return;
        if (zk_io && uv_is_active((uv_handle_t*) zk_io)) uv_poll_stop(zk_io);
        rxzk_last_state = -1;
        tv.tv_sec = 0;
        tv.tv_usec = 0;
        uv_timer_start(&zk_timer, &zk_timer_cb, 0, 0);
    }

    void yield () {
`,
  },
  {
    marker: '/* rxzk: a poll that could not be made */',
    find: '             \tuv_poll_init(Nan::GetCurrentEventLoop(), zk_io, fd);\n             #endif\n',
    replace: `             \tif (uv_poll_init(Nan::GetCurrentEventLoop(), zk_io, fd) != 0) { /* rxzk: a poll that could not be made */
             \t    // Another watcher still holds this fd number: starting this poll would abort the
             \t    // process. Forget it and try again in a moment.
             \t    free(zk_io);
             \t    zk_io = NULL;
             \t    fd = -1;
             \t    tv.tv_sec = 0;
             \t    tv.tv_usec = 10000;
             \t    uv_timer_start(&zk_timer, &zk_timer_cb, 10, 10);
             \t    return;
             \t}
             #endif
`,
  },
  {
    marker: '/* rxzk: add watch */',
    find: '    static void ASync(const Nan::FunctionCallbackInfo<Value>& info) {\n',
    replace: `    /* rxzk: add watch */
    // a_add_watch(path, mode, cb): mode 0 persistent, 1 persistent recursive; cb(rc, message). Its
    // events arrive on the handle's 'created', 'deleted' and 'changed' (and 'child') events.
    static void AAddWatch(const Nan::FunctionCallbackInfo<Value>& info) {
        A_METHOD_PROLOG(3);

        Nan::Utf8String _path (toString(info[0]));
        int _mode = (int) toUint(info[1]);

        struct completion_data *data = (struct completion_data *) malloc(sizeof(struct completion_data));
        data->cb = cb;
        data->type = 106;
        data->data = NULL;

        METHOD_EPILOG(zoo_aadd_watch(zk->zhandle, *_path, _mode, void_completion, data));
    }

    static void ASync(const Nan::FunctionCallbackInfo<Value>& info) {
`,
  },
  {
    marker: '/* rxzk: register add watch */',
    find: '        Nan::SetPrototypeMethod(constructor_template,  "a_sync",  ASync);\n',
    replace:
      '        Nan::SetPrototypeMethod(constructor_template,  "a_sync",  ASync);\n' +
      '        Nan::SetPrototypeMethod(constructor_template,  "a_add_watch",  AAddWatch); /* rxzk: register add watch */\n',
  },
  {
    marker: '/* rxzk: declare add watch */',
    find: '#include "zk_log.h"\n',
    replace:
      '#include "zk_log.h"\n/* rxzk: declare add watch */\nextern "C" int zoo_aadd_watch(zhandle_t *zh, const char *path, int mode, void_completion_t completion, const void *data);\n',
  },
  {
    marker: '/* rxzk: only data and child watchers are in the tables */',
    find: `        data->data = new std::string[2]{ (_type & 2) ? rxzk_key(zk->zhandle, "d:", *_path) : std::string(),
                                          (_type & 1) ? rxzk_key(zk->zhandle, "c:", *_path) : std::string() };
`,
    replace: `        /* rxzk: only data and child watchers are in the tables */
        // Types 1 (children), 2 (data), 3 (both); 4 and 5 are persistent watches, which hold no callback here.
        data->data = new std::string[2]{ (_type == 2 || _type == 3) ? rxzk_key(zk->zhandle, "d:", *_path) : std::string(),
                                          (_type == 1 || _type == 3) ? rxzk_key(zk->zhandle, "c:", *_path) : std::string() };
`,
  },
];

/** Patches to the C client's source (deps/zookeeper-client-c/src/zookeeper.c). */
const clientPatches = [
  {
    marker: '/* rxzk: length and body in one send */',
    find: `    int rc = -1;

    if (off < 4) {
        /* we need to send the length at the beginning */`,
    replace: `    int rc = -1;

#ifndef _WIN32
    /* rxzk: length and body in one send */
    if (off == 0
#ifdef HAVE_OPENSSL_H
        && !zh->fd->ssl_sock
#endif
    ) {
        int nlen = htonl(len);
        struct iovec iov[2];
        struct msghdr msg;
        iov[0].iov_base = &nlen;
        iov[0].iov_len = sizeof(nlen);
        iov[1].iov_base = buff->buffer;
        iov[1].iov_len = len;
        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = iov;
        msg.msg_iovlen = len > 0 ? 2 : 1;
        rc = sendmsg(zh->fd->sock, &msg, SEND_FLAGS);
        if (rc == -1) {
            return errno != EAGAIN ? -1 : 0;
        }
        buff->curr_offset += rc;
        return buff->curr_offset == len + sizeof(buff->len);
    }
#endif

    if (off < 4) {
        /* we need to send the length at the beginning */`,
  },
  ...[1, 2].map((n) => ({
    marker: `/* rxzk: close-on-exec sockets (${n}) */`,
    find: '#ifdef SOCK_CLOEXEC_ENABLED\n    sock_flags = SOCK_STREAM | SOCK_CLOEXEC;\n',
    replace: `#if defined(SOCK_CLOEXEC_ENABLED) || defined(SOCK_CLOEXEC) /* rxzk: close-on-exec sockets (${n}) */\n    sock_flags = SOCK_STREAM | SOCK_CLOEXEC;\n`,
  })),
  {
    marker: '/* rxzk: zoo_aadd_watch */',
    find: `int zoo_aremove_all_watches(zhandle_t *zh, const char *path,
        ZooWatcherType wtype, int local, void_completion_t *completion,
        const void *data)
{`,
    replace: `/* rxzk: zoo_aadd_watch */
/* mode 0: persistent, 1: persistent recursive (AddWatchMode). Not re-sent on reconnection (SetWatches
   carries one-shot watches only): the caller adds it again, and reads again what it may have missed. */
int zoo_aadd_watch(zhandle_t *zh, const char *path, int mode,
        void_completion_t completion, const void *data)
{
    struct oarchive *oa;
    struct RequestHeader h = { get_xid(), 106 /* OpCode.addWatch */ };
    struct AddWatchRequest req;
    int rc = Request_path_init(zh, 0, &req.path, path);
    if (rc != ZOK) {
        return rc;
    }
    req.mode = mode;
    oa = create_buffer_oarchive();
    rc = serialize_RequestHeader(oa, "header", &h);
    rc = rc < 0 ? rc : serialize_AddWatchRequest(oa, "req", &req);
    enter_critical(zh);
    rc = rc < 0 ? rc : add_void_completion(zh, h.xid, completion, data);
    rc = rc < 0 ? rc : queue_buffer_bytes(&zh->to_send, get_buffer(oa),
            get_buffer_len(oa));
    leave_critical(zh);
    free_duplicate_path(req.path, path);
    close_buffer_oarchive(&oa, 0);
    if (rc == ZOK) zh->rxzk_persistent = 1;
    return nonblocking_send(zh, rc);
}

int zoo_aremove_all_watches(zhandle_t *zh, const char *path,
        ZooWatcherType wtype, int local, void_completion_t *completion,
        const void *data)
{`,
  },
];

/** Patches to the C client's handle (src/zk_adaptor.h) and watcher tables (src/zk_hashtable.c). */
const adaptorPatches = [
  {
    marker: '/* rxzk: node events to the default watcher */',
    find: '    char seen_rw_server_before;\n};\n',
    replace:
      '    char seen_rw_server_before;\n    /* rxzk: node events to the default watcher */\n    int rxzk_persistent;\n};\n',
  },
];
const hashtablePatches = [
  {
    marker: '/* rxzk: persistent watches hear every node event */',
    find: '        collect_session_watchers(zh, &list);\n        return list;\n    }\n',
    replace: `        collect_session_watchers(zh, &list);
        return list;
    }
    /* rxzk: persistent watches hear every node event */
    // The server sends one notification per event per connection, whichever watches it matched: a
    // handle with persistent watches hands every node event to its default watcher as well.
    if (zh->rxzk_persistent) {
        watcher_object_t defWatcher;
        defWatcher.watcher=zh->watcher;
        defWatcher.context=zh->context;
        add_to_list(&list, &defWatcher, 1);
    }
`,
  },
  {
    marker: "/* rxzk: persistent watches are the server's */",
    find: `            watcher_found = containsWatcher(zh->active_exist_watchers, path,
                                            watcher, watcherCtx);
        }
        break;
    }

    return watcher_found;`,
    replace: `            watcher_found = containsWatcher(zh->active_exist_watchers, path,
                                            watcher, watcherCtx);
        }
        break;
    default: /* rxzk: persistent watches are the server's */
        watcher_found = wtype >= 4;
        break;
    }

    return watcher_found;`,
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
/** Applies `list` to `file`; returns how many were applied (0: all there already). */
function apply(file, list, what) {
  let text = readFileSync(file, 'utf8');
  let applied = 0;
  for (const patch of list) {
    if (text.includes(patch.marker)) continue;
    if (!text.includes(patch.find)) {
      console.warn(`[rxzk] ${what} source has changed; patch ${patch.marker} not applied`);
      continue;
    }
    text = text.replace(patch.find, patch.replace);
    applied++;
  }
  if (applied > 0) writeFileSync(file, text);
  return applied;
}
const clientDir = join(packageDir, 'deps', 'zookeeper-client-c');
const clientApplied =
  apply(join(clientDir, 'src', 'zookeeper.c'), clientPatches, 'ZooKeeper C client') +
  apply(join(clientDir, 'src', 'zk_adaptor.h'), adaptorPatches, 'ZooKeeper C client') +
  apply(join(clientDir, 'src', 'zk_hashtable.c'), hashtablePatches, 'ZooKeeper C client');
const applied = apply(join(packageDir, 'src', 'node-zk.cpp'), patches, 'zookeeper binding') + clientApplied;
if (applied === 0) {
  console.log('[rxzk] zookeeper binding already patched');
  process.exit(0);
}
console.log(`[rxzk] applied ${applied} patch(es) to the zookeeper binding; rebuilding it`);
// The C client was configured and built by the package's own install: make rebuilds what changed.
if (clientApplied > 0)
  execFileSync('make', ['--no-print-directory', '--quiet'], { cwd: clientDir, stdio: 'inherit' });
// Rebuild the addon, which links the C client library statically.
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
