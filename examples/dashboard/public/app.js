/**
 * The dashboard page. One EventSource on /events; every message is `{ key, value }`: the latest state
 * of one thing (`null`: it is gone). The page keeps the latest value per key and renders from those
 * alone, so it does not matter which intermediate updates it got or in what order: the server may
 * conflate them when this page falls behind (see the footer).
 */

/** Seconds of leadership history drawn on each election's timeline. */
const TIMELINE_MS = 120_000;
/** Queue depth drawn over this long. */
const SPARK_MS = 60_000;
/** A tree node changed this recently is highlighted. */
const FRESH_MS = 1_500;
const MAX_TREE_ROWS = 400;

const state = {
  hello: null,
  offset: 0,
  link: 'connecting',
  session: null,
  /** Session states seen by this page (kept across stream reconnects). */
  sessions: [],
  treeLoaded: false,
  nodes: new Map(),
  /** Tree path -> when this page last heard of it (for the highlight). */
  touched: new Map(),
  election: new Map(),
  group: new Map(),
  lock: new Map(),
  queue: new Map(),
  /** Queue path -> depth samples `{ at, depth }` seen by this page. */
  depths: new Map(),
  conflated: 0,
  error: null,
};

// --- the stream ------------------------------------------------------------------------------------

function apply({ key, value }) {
  if (key === 'hello') {
    // A new stream (first, or after a reconnect): it sends everything again, from scratch.
    for (const kind of ['nodes', 'touched', 'election', 'group', 'lock', 'queue']) state[kind].clear();
    state.treeLoaded = false;
    state.error = null;
    state.hello = value;
    state.offset = Date.now() - value.serverTime;
    return;
  }
  if (key === 'session') {
    clockFrom(value.at);
    state.session = value;
    state.sessions = [...state.sessions, value].slice(-8);
    return;
  }
  if (key === 'tree') return void (state.treeLoaded = true);
  if (key === 'link') return void (state.conflated = value.conflated);
  if (key === 'error') return void (state.error = value);
  const colon = key.indexOf(':');
  const kind = key.slice(0, colon);
  const path = key.slice(colon + 1);
  const map = kind === 'node' ? state.nodes : state[kind];
  if (!(map instanceof Map)) return;
  if (value === null) map.delete(path);
  else map.set(path, value);
  // Highlight changes, not the first load.
  if (kind === 'node' && state.treeLoaded) state.touched.set(path, Date.now());
  if (kind === 'election' && value?.leader) clockFrom(value.leader.at);
  if (kind === 'queue' && value !== null) {
    const samples = (state.depths.get(path) ?? []).filter((s) => s.at > Date.now() - SPARK_MS);
    state.depths.set(path, [...samples, { at: Date.now(), depth: value.depth }]);
  }
}

/**
 * The server's clock as this page sees it: `offset` = our clock minus the server's. Every timestamp
 * from the server bounds it from above (a message is received after it was stamped), so the smallest
 * `receipt - stamp` seen is the best estimate (the hello may wait while the page loads).
 */
function clockFrom(at) {
  state.offset = Math.min(state.offset, Date.now() - at);
}

const source = new EventSource('/events');
source.onopen = () => {
  state.link = 'live';
  schedule();
};
source.onerror = () => {
  state.link = source.readyState === EventSource.CLOSED ? 'down' : 'retrying';
  schedule();
};
source.onmessage = (message) => {
  apply(JSON.parse(message.data));
  schedule();
};

// --- rendering -------------------------------------------------------------------------------------

let frame = 0;
function schedule() {
  frame ||= requestAnimationFrame(() => {
    frame = 0;
    render();
  });
}
// Durations ("leads for 3 s") move on by themselves.
setInterval(schedule, 500);

const $ = (id) => document.getElementById(id);
const esc = (text) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
const now = () => Date.now() - state.offset;
const name = (path) => path.slice(path.lastIndexOf('/') + 1);
/** Entries by path, segment by segment, so that a node's children come right after it. */
function sorted(map) {
  return [...map].sort(([a], [b]) => {
    const x = a.split('/');
    const y = b.split('/');
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return x.length - y.length;
  });
}
const clock = (at) => {
  const d = new Date(at + state.offset);
  return `${d.toLocaleTimeString('en-GB', { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
};
const duration = (ms) =>
  ms < 1_000
    ? `${Math.max(0, Math.round(ms))} ms`
    : ms < 60_000
      ? `${(ms / 1_000).toFixed(1)} s`
      : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
function color(id) {
  let hash = 0;
  for (const c of String(id)) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360} 55% 40%)`;
}
const chip = (id, attrs = '', extra = '', label = id) =>
  `<span class="who ${extra}" style="background:${color(id)}" ${attrs}>${esc(label)}</span>`;

function render() {
  const hello = state.hello;
  $('target').textContent = hello ? `${hello.connectString}   root ${hello.root}` : 'connecting…';
  const session = state.session?.type ?? 'connecting';
  $('session').dataset.state = session;
  $('session').textContent = session;
  $('link').dataset.state = state.link;
  $('link').textContent = state.link;
  $('conflated').textContent =
    state.conflated > 0 ? `Updates the server skipped for this page so far: ${state.conflated}.` : '';
  panel('elections', state.election, election, 'no elections yet');
  panel('locks', state.lock, lock, 'no locks yet');
  panel('queues', state.queue, queue, 'no queues yet');
  panel('groups', state.group, group, 'no groups yet');
  $('connection').querySelector('.body').innerHTML = connection();
  renderTree();
}

function panel(id, map, card, empty) {
  const body = $(id).querySelector('.body');
  body.innerHTML =
    map.size === 0
      ? `<p class="empty">${empty}</p>`
      : sorted(map)
          .map(([p, v]) => card(p, v))
          .join('');
}

function election(path, view) {
  const t = now();
  const leader = view.leader
    ? `${chip(view.leader.id, `data-role="leader" data-id="${esc(view.leader.id)}"`, 'big')}
       <span>leads for <b>${duration(t - view.leader.at)}</b></span>
       <span class="token">fencing token ${view.leader.token}</span>`
    : `<span class="big none" data-role="leader" data-id="">no leader</span>`;
  const line = view.candidates
    .map((c, i) =>
      chip(c.id, `data-candidate="${esc(c.id)}"`, i === 0 ? '' : 'waiting', i === 0 ? `★ ${c.id}` : c.id),
    )
    .join('');
  return `<div class="card" data-election="${esc(path)}">
    <div class="title"><span class="name">${esc(name(path))}</span><span class="mono">${esc(path)}</span></div>
    <div class="leader-line">${leader}</div>
    <div>in line: ${line || '<span class="empty">no candidates</span>'}</div>
    ${timeline(view.history, t)}
    <ul class="failovers">${failovers(view.history)}</ul>
  </div>`;
}

/** Leadership as coloured segments over the last TIMELINE_MS; grey where nobody led. */
function timeline(history, t) {
  const from = t - TIMELINE_MS;
  const segments = history.map((h, i) => {
    const start = Math.max(h.at, from);
    const end = history[i + 1]?.at ?? t;
    if (end <= from) return '';
    const left = ((start - from) / TIMELINE_MS) * 100;
    const width = ((end - start) / TIMELINE_MS) * 100;
    const bg = h.id === null ? '#c5ccd8' : color(h.id);
    return `<span style="left:${left}%;width:${width}%;background:${bg}" title="${esc(h.id ?? 'no leader')}">${esc(h.id ?? '')}</span>`;
  });
  return `<div class="track">${segments.join('')}</div>
    <div class="axis"><span>−${TIMELINE_MS / 1000} s</span><span>now</span></div>`;
}

/** Each change of leader, newest first: who took over from whom, and how long nobody led. */
function failovers(history) {
  const items = [];
  let previous = null;
  for (let i = 0; i < history.length; i++) {
    const h = history[i];
    if (h.id === null) continue;
    const before = history[i - 1];
    const gap =
      before && before.id === null
        ? ` <span class="mono">(no leader for ${duration(h.at - before.at)})</span>`
        : '';
    if (i > 0) {
      items.push(
        `<li data-role="failover" data-from="${esc(previous ?? '')}" data-to="${esc(h.id)}"><time>${clock(h.at)}</time>${esc(previous ?? 'nobody')} → <b>${esc(h.id)}</b> token ${h.token}${gap}</li>`,
      );
    }
    previous = h.id;
  }
  if (history[0]?.id)
    items.unshift(
      `<li><time>${clock(history[0].at)}</time><b>${esc(history[0].id)}</b> leads (page opened)</li>`,
    );
  return items.reverse().slice(0, 6).join('');
}

function lock(path, view) {
  const t = now();
  const holder = view.holder
    ? `${chip(view.holder.id, `data-role="holder" data-id="${esc(view.holder.id)}"`)} holds it for <b>${duration(t - view.holder.since)}</b> <span class="token">token ${view.holder.token}</span>`
    : `<span class="empty" data-role="holder" data-id="">free</span>`;
  const waiters = view.waiters.map((w) => chip(w.id, `data-waiter="${esc(w.id)}"`, 'waiting')).join('');
  return `<div class="card" data-lock="${esc(path)}">
    <div class="title"><span class="name">${esc(name(path))}</span><span class="mono">${view.acquisitions} holders seen</span></div>
    <div class="leader-line">${holder}</div>
    <div>waiting: ${waiters || '<span class="empty">nobody</span>'}</div>
  </div>`;
}

function queue(path, view) {
  const samples = state.depths.get(path) ?? [];
  const t = Date.now(); // samples are this page's own receipt times
  const max = Math.max(4, ...samples.map((s) => s.depth));
  // A step line: each sample holds until the next.
  const points = [];
  samples.forEach((s, i) => {
    const x = (at) => Math.max(0, ((at - (t - SPARK_MS)) / SPARK_MS) * 300).toFixed(1);
    const y = (36 - (s.depth / max) * 32).toFixed(1);
    points.push(`${x(s.at)},${y}`, `${x(samples[i + 1]?.at ?? t)},${y}`);
  });
  return `<div class="card" data-queue="${esc(path)}">
    <div class="title"><span class="name">${esc(name(path))}</span><span class="mono">${esc(path)}</span></div>
    <div class="depth"><span class="big" data-role="depth">${view.depth}</span> waiting,
      <b>${view.claimed}</b> being worked on</div>
    <div class="bar"><div style="width:${Math.min(100, (view.depth / max) * 100)}%"></div></div>
    <svg class="spark" viewBox="0 0 300 36" preserveAspectRatio="none"><polyline points="${points.join(' ')}"/></svg>
  </div>`;
}

function group(path, members) {
  const rows = members
    .map((m) => `<li data-member="${esc(m.id)}">${chip(m.id)}<span class="data">${esc(m.data)}</span></li>`)
    .join('');
  return `<div class="card" data-group="${esc(path)}">
    <div class="title"><span class="name">${esc(name(path))}</span><span class="mono">${members.length} members</span></div>
    <ul class="members">${rows || '<li class="empty">nobody</li>'}</ul>
  </div>`;
}

function connection() {
  const s = state.session;
  if (!s) return '<p class="empty">waiting for the server…</p>';
  const details = [
    s.sessionId && `session 0x${esc(s.sessionId)}`,
    s.sessionTimeout && `timeout ${s.sessionTimeout} ms`,
    s.reason && `reason: ${esc(s.reason)}`,
  ]
    .filter(Boolean)
    .join(' · ');
  const history = state.sessions
    .slice()
    .reverse()
    .map((h) => `<li><time>${clock(h.at)}</time>${esc(h.type)}</li>`)
    .join('');
  return `<div class="big" data-role="session">${esc(s.type)}</div>
    <div class="mono">${details}</div>
    ${state.error ? `<p class="none">${esc(state.error)}</p>` : ''}
    <ul class="states">${history}</ul>`;
}

function renderTree() {
  const root = state.hello?.root ?? '/';
  const rows = sorted(state.nodes);
  $('tree-summary').textContent = state.treeLoaded ? `${rows.length} nodes under ${root}` : 'loading…';
  const depthOf = (path) => (path === root ? 0 : path.slice(root.length).split('/').length - 1);
  const fresh = Date.now() - FRESH_MS;
  const html = rows.slice(0, MAX_TREE_ROWS).map(([path, node]) => {
    const label = path === root ? path : name(path);
    return `<div class="node${(state.touched.get(path) ?? 0) > fresh ? ' fresh' : ''}" data-path="${esc(path)}" style="padding-left:${depthOf(path) * 14 + 4}px">
      <span class="n">${esc(label)}</span>${node.ephemeral ? '<span class="eph">eph</span>' : ''}
      <span class="d">${esc(node.data)}</span><span class="v">v${node.version}</span></div>`;
  });
  if (rows.length > MAX_TREE_ROWS)
    html.push(`<p class="empty">… and ${rows.length - MAX_TREE_ROWS} more</p>`);
  $('tree').querySelector('.body').innerHTML = html.join('');
}
