#!/usr/bin/env node
/**
 * Renders a benchmark run (the run.json that `npm run bench` writes) as a Markdown page with one table
 * per scenario and SVG charts of the distributions next to the JSON. Static SVG: no scripts, no web
 * fonts, no CDN (generic font families only).
 *
 *   node scripts/bench-report.mjs bench/results/<time>/run.json [--md BENCHMARKS.md]
 *
 * A scenario in which any peer failed (did not start, failed a round, broke a guarantee) gets no table
 * and no chart for that server setup: the page says which peer failed and why instead.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const PEERS = ['rxzk', 'curator', 'kazoo', 'floor'];
const PEER_LABELS = {
  rxzk: 'rxzk',
  curator: 'Curator 5.4',
  kazoo: 'kazoo 2.8',
  floor: 'floor (raw C binding)',
};
const PEER_COLORS = { rxzk: '#8e3fb5', curator: '#2e7d32', kazoo: '#1f5fa8', floor: '#6b6b6b' };
const TOPOLOGY_LABELS = { single: 'single server', ensemble: '3-node ensemble' };
const SCENARIO_ORDER = ['lock', 'failover', 'change', 'tree', 'queue', 'fanout'];

/** What each peer's recipe is, and where its semantics differ (shown under each table). */
const NOTES = {
  lock: [
    '**Curator** `InterProcessMutex` (one per session, each on its own thread): ephemeral-sequential node, a listing, a `getData` watch on the predecessor, a listing again on each wake-up.',
    "**kazoo** `client.Lock`: the same algorithm (nodes `<uuid>__lock__<seq>`); it lists the children on every wake-up, and a Python thread per contender shares the GIL with kazoo's own threads.",
    "**rxzk** `acquire()`/`release()`: Curator's node layout, a fencing token (the czxid) on every handle, one watch per waiter; a waiter whose predecessor was the lowest holds without another listing.",
    '**floor**: the least this protocol needs, on raw handles: the create and the listing sent together, a watch on the predecessor, no listing when the deleted predecessor was the lowest (the handoff is one delete and one notification); no protection GUID, no retries, no token.',
    'The two Node peers run their 8 sessions on one thread (the C client\u2019s I/O included); Curator\u2019s sessions each have their own I/O and event threads, which use both cores; kazoo\u2019s threads share the GIL.',
  ],
  failover: [
    '**Curator** `LeaderLatch`: `close()` deletes the node (in the background, guaranteed) and removes its watches; the next latch is told through `isLeader()`.',
    '**kazoo** `client.Election`: a `Lock`; leading is holding it while the leader function runs, resigning is returning from it.',
    '**rxzk** `leadership()`: unsubscribing deletes the node; before emitting `leader` the next candidate checks that the lowest node belongs to its own session (CURATOR-696).',
    '**floor**: delete and the successor\u2019s `exists` notification: the successor leads at once when its deleted predecessor was the lowest (the least any sequential-node election can do), and lists again otherwise.',
  ],
  change: [
    '**Curator** `CuratorCache` with `SINGLE_NODE_CACHE`: one persistent watch (`addWatch`, ZooKeeper 3.6+) that is never re-armed; each event is followed by a `getData`, and listeners run on the cache\u2019s executor thread.',
    '**kazoo** `DataWatch`: a one-shot watch re-armed by each read; the callback runs on kazoo\u2019s callback thread.',
    '**rxzk** `data$`: a one-shot watch re-armed by each read, deduplicated by mzxid, shared by every subscriber of the client and path.',
    '**floor**: a get-with-watch loop on a raw handle.',
    'The writer and the subscriber are two sessions of one process: the watch event may be handled before the writer\u2019s own reply (those samples count as 0). *From the set call* (set called \u2192 value seen) does not depend on how late a peer\u2019s set resolves.',
  ],
  tree: [
    '**Curator** `CuratorCache`: one persistent *recursive* watch on the root, then `getData` + `getChildren` per node with no per-node watch (ZooKeeper 3.6+ only).',
    '**kazoo** `TreeCache` and **rxzk** `tree$` (first snapshot with `initialized`): a data watch and a child watch on every node (about 20,000 server watches for 10,000 nodes).',
    '**floor**: `get` and `getChildren`, each with a watch, for every node, all pipelined.',
  ],
  queue: [
    '**Curator** `DistributedQueue` with a `lockPath` (QueueBuilder, `putInBackground(false)` so that the producer waits for each put as the others do): an ephemeral lock node per item, `getData`, `consumeMessage`, then the item and the lock are deleted; items are delivered at least once. Without a lockPath an item is deleted before it is processed (at most once). Curator\u2019s own Tech Note 4 advises against queues on ZooKeeper.',
    '**kazoo** `LockingQueue`: `get()` takes an ephemeral lock under `taken/` (every consumer watches both `entries/` and `taken/`), `consume()` deletes the entry and the lock in one transaction: at least once.',
    "**rxzk** `queue(..., { mode: 'at-least-once' })` with `ack()`: an ephemeral claim under `<path>/claims`, the ack deletes the item, then the claim.",
    '**floor**: the same four operations (claim, read, delete item, delete claim) on raw handles, the least the protocol needs: items and claims listed together (claimed items skipped), the claim and the read sent together, the item\u2019s and the claim\u2019s deletes sent together (one session\u2019s requests are applied in order).',
    'Every consumer wakes on every new item and they race for the head (all four implementations).',
  ],
  fanout: [
    '**Curator**: one `CuratorCache` (`SINGLE_NODE_CACHE`) per path with 10 listeners: the way to share a node among listeners in Curator.',
    '**kazoo**: 10 `DataWatch` per path (each reads the node on its own; the client keeps one server watch per path). A DataWatch cannot be removed: it stops at its next event, so its server watches stay until the session closes (\u201cwatches left\u201d).',
    '**rxzk**: 10 `data$` subscriptions per path, shared per client and path (one read, one watch); the last unsubscribe removes the server watch.',
    '**floor**: one get-with-watch per path and a list of 10 callbacks; `removeWatches` at the end.',
    'Heap: V8 heap + external after `gc()` (rxzk, floor), Java heap in use after `System.gc()` (Curator), live `tracemalloc` allocations (kazoo): comparable across the peers. The C client\u2019s own tables live outside the V8 heap, so for the Node peers RSS growth (heap + native) is shown too; a JVM\u2019s or CPython\u2019s RSS says little (the JVM grows into a heap it committed at start, tracemalloc adds its own), so theirs is not.',
    'Server watches: `mntr` `zk_watch_count` on the server the sessions use, less what it counted before; a persistent watch (Curator) counts as a data and a child watch, and Curator\u2019s ensemble tracker watches `/zookeeper/config` once per session (two sessions here). Closing the CuratorCaches (Curator 5.4 on the 3.8 Java client: its `PersistentWatcher.close()` sends a guaranteed background `removeWatches`) left their watches on the server until the session closed, in every round of every run so far (\u201cwatches left\u201d).',
    '*From the set call* also counts the writer\u2019s own round trip; the headline starts when the set resolves (as asked), which flatters a peer whose set resolves late in its own process.',
  ],
};

function parseArgs(argv) {
  const args = { json: undefined, md: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--md') args.md = argv[++i];
    else if (!args.json) args.json = argv[i];
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  if (!args.json) throw new Error('usage: bench-report.mjs <run.json> [--md <file>]');
  args.json = resolve(args.json);
  args.md = resolve(args.md ?? join(dirname(args.json), 'report.md'));
  return args;
}

// ---- formatting ----

const esc = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function ms(x) {
  if (!Number.isFinite(x)) return '–';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toFixed(3);
}
const rate = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
function bytes(x) {
  if (!Number.isFinite(x)) return '–';
  if (Math.abs(x) >= 1024 * 1024) return `${(x / 1024 / 1024).toFixed(1)} MiB`;
  if (Math.abs(x) >= 1024) return `${(x / 1024).toFixed(2)} KiB`;
  return `${Math.round(x)} B`;
}
const ratio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');
const firstLine = (text) =>
  String(text)
    .split('\n')
    .find((l) => l.trim() !== '') ?? String(text);

// ---- reading the run ----

/** The scenario records of one topology that compare (every peer ok), and the refusals of the others. */
function comparisons(run) {
  const byScenario = new Map();
  for (const topology of run.topologies) {
    for (const record of topology.scenarios) {
      const entry = byScenario.get(record.scenario) ?? { record, rows: [], refused: [] };
      const failed = PEERS.filter((p) => record.peers[p] && !record.peers[p].ok);
      if (failed.length > 0) {
        entry.refused.push({
          topology: topology.name,
          failures: failed.map((p) => ({ peer: p, error: record.peers[p].error })),
        });
      } else {
        entry.rows.push({ topology: topology.name, record });
      }
      byScenario.set(record.scenario, entry);
    }
  }
  return byScenario;
}

const present = (record) => PEERS.filter((p) => record.peers[p]?.ok);

/** The headline figure of a peer (throughput median, or latency median) and its direction. */
function headline(record, peer) {
  const s = record.peers[peer]?.summary;
  if (!s) return Number.NaN;
  if (record.headline.kind === 'throughput') return s.throughput?.median ?? Number.NaN;
  return s.samples?.median ?? Number.NaN;
}

/** rxzk's figure over the best of Curator and kazoo (for latency: the lowest; for rates: the highest). */
function versusBestPeer(record, pick, higherIsBetter) {
  const peers = ['curator', 'kazoo'].filter((p) => record.peers[p]?.ok);
  const values = peers.map((p) => pick(p)).filter(Number.isFinite);
  if (values.length === 0 || !record.peers.rxzk?.ok) return { value: Number.NaN, best: undefined };
  const best = higherIsBetter ? Math.max(...values) : Math.min(...values);
  const bestPeer = peers.find((p) => pick(p) === best);
  return { value: pick('rxzk') / best, best: bestPeer };
}

function samplesOf(record, peer) {
  return (record.peers[peer]?.rounds ?? []).flatMap((r) =>
    Object.values(r.steps).flatMap((s) => s.samples ?? []),
  );
}

function ratesOf(record, peer) {
  return (record.peers[peer]?.rounds ?? []).map((r) => r.steps.round?.throughput).filter(Number.isFinite);
}

// ---- SVG ----

function niceTicks(min, max, log) {
  if (log) {
    const ticks = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= min * 0.999 && v <= max * 1.001) ticks.push(v);
      }
    }
    return ticks;
  }
  const span = max - min || 1;
  const step0 = 10 ** Math.floor(Math.log10(span / 5));
  const step = [1, 2, 5, 10].map((m) => m * step0).find((s) => span / s <= 6) ?? step0 * 10;
  const ticks = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const tickLabel = (v) => (v >= 1000 ? v.toLocaleString('en-US') : v >= 1 ? String(v) : v.toPrecision(2));

/**
 * Horizontal distribution chart: per row, the min–max line, the p25–p75 box, the median, a p99 mark
 * and up to 300 sampled points; rows grouped under their server setup.
 */
function distributionChart({ title, unit, rows, barsOnly = false, legend }) {
  const width = 820;
  const left = 190;
  const right = 110;
  const rowH = 30;
  const plotW = width - left - right;
  const groups = [...new Set(rows.map((r) => r.group))];
  const height = 40 + rows.length * rowH + groups.length * 22 + 40 + (legend ? 16 : 0);
  const values = rows
    .flatMap((r) => (barsOnly ? r.bars.map((b) => b.value) : [r.dist.min, r.dist.max, ...r.points]))
    .filter((v) => v > 0);
  const lo = barsOnly ? 0 : Math.min(...values);
  const hi = Math.max(...values);
  const log = !barsOnly && hi / lo > 30;
  const min = log ? lo / 1.2 : 0;
  const max = log ? hi * 1.2 : hi * 1.08 || 1;
  const x = (v) =>
    left +
    (log
      ? (Math.log(Math.max(v, min)) - Math.log(min)) / (Math.log(max) - Math.log(min))
      : (v - min) / (max - min)) *
      plotW;
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`);
  const plotTop = 34;
  const plotBottom = height - 36 - (legend ? 16 : 0);
  for (const t of niceTicks(log ? lo : 0, max, log)) {
    const tx = x(t);
    out.push(
      `<line x1="${tx.toFixed(1)}" y1="${plotTop}" x2="${tx.toFixed(1)}" y2="${plotBottom}" stroke="#e4e4e4"/>`,
    );
    out.push(
      `<text x="${tx.toFixed(1)}" y="${plotBottom + 14}" text-anchor="middle" fill="#555">${esc(tickLabel(t))}</text>`,
    );
  }
  out.push(
    `<text x="${left + plotW / 2}" y="${plotBottom + 30}" text-anchor="middle" fill="#333">${esc(unit)}${log ? ' (log scale)' : ''}</text>`,
  );
  let y = plotTop + 4;
  let seed = 7;
  const jitter = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647 - 0.5;
  };
  for (const group of groups) {
    out.push(`<text x="8" y="${y + 14}" font-weight="bold" fill="#333">${esc(group)}</text>`);
    y += 22;
    for (const row of rows.filter((r) => r.group === group)) {
      const cy = y + rowH / 2;
      const color = PEER_COLORS[row.peer] ?? '#333';
      out.push(`<text x="${left - 8}" y="${cy + 4}" text-anchor="end">${esc(row.label)}</text>`);
      if (barsOnly) {
        // One bar per figure, stacked thinly inside the row (the first solid, the next lighter).
        const h = 20 / row.bars.length;
        row.bars.forEach((bar, k) => {
          const top = cy - 10 + k * h;
          const end = x(Math.max(0, bar.value));
          out.push(
            `<rect x="${left}" y="${top.toFixed(1)}" width="${Math.max(1, end - left).toFixed(1)}" height="${(h - 1).toFixed(1)}" fill="${color}" opacity="${k === 0 ? 0.85 : 0.4}"/>`,
          );
          out.push(
            `<text x="${(end + 6).toFixed(1)}" y="${(top + h - 2).toFixed(1)}" fill="#333" font-size="10">${esc(bar.text)}</text>`,
          );
        });
      } else {
        const d = row.dist;
        const step = Math.max(1, Math.ceil(row.points.length / 300));
        for (let i = 0; i < row.points.length; i += step) {
          out.push(
            `<circle cx="${x(row.points[i]).toFixed(1)}" cy="${(cy + jitter() * 16).toFixed(1)}" r="1.6" fill="${color}" opacity="0.3"/>`,
          );
        }
        out.push(
          `<line x1="${x(d.min).toFixed(1)}" y1="${cy}" x2="${x(d.max).toFixed(1)}" y2="${cy}" stroke="${color}" stroke-width="1"/>`,
        );
        out.push(
          `<rect x="${x(d.p25).toFixed(1)}" y="${cy - 7}" width="${Math.max(1, x(d.p75) - x(d.p25)).toFixed(1)}" height="14" fill="${color}" fill-opacity="0.25" stroke="${color}"/>`,
        );
        out.push(
          `<line x1="${x(d.median).toFixed(1)}" y1="${cy - 9}" x2="${x(d.median).toFixed(1)}" y2="${cy + 9}" stroke="${color}" stroke-width="3"/>`,
        );
        out.push(
          `<path d="M${x(d.p99).toFixed(1)} ${cy - 10} l-4 -6 h8 z" fill="${color}"><title>p99 ${esc(ms(d.p99))}</title></path>`,
        );
        out.push(`<text x="${width - right + 8}" y="${cy + 4}" fill="#333">${esc(row.text)}</text>`);
      }
      y += rowH;
    }
  }
  if (legend)
    out.push(`<text x="${left}" y="${height - 8}" fill="#777" font-size="10">${esc(legend)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

// ---- Markdown ----

function methodSection(run) {
  const lines = [];
  const m = run.machine;
  lines.push('## How this was measured', '');
  lines.push(
    '- **One run, one server, interleaved.** `npm run bench` starts its own ZooKeeper (through the test harness, `test/support/zookeeper.ts`) and one worker process per peer: a Java program with every Curator scenario (`bench/peers/curator/CuratorPeer.java`, compiled by the suite with javac), a Python program with every kazoo scenario (`bench/peers/kazoo/kazoo_peer.py`), a Node worker for rxzk and one for the floor (`bench/suite/`). One orchestrator drives them over JSON lines on stdin/stdout, with the same parameters and warm-up, round by round in rotating order (A B C D, B C D A, …), so drift of the machine hits every peer alike.',
    '- **Each worker times itself** with its own monotonic clock (`System.nanoTime`, `time.perf_counter`, `performance.now`), inside one process. Sessions are opened before the timed work (setup) and ask for the same 10 s session timeout.',
    '- **A result counts only if it is correct**: the lock never had two holders, no failover saw two leaders, every change and every queue item arrived and was acked, the tree cache held every node. Otherwise that scenario has no comparison (the page says which peer failed and why).',
    '- **floor** is the same ZooKeeper C binding rxzk uses (the `zookeeper` npm addon behind rxzk\u2019s thin native adapter, `nativeTransport().open()`), called by hand-written code doing the least each protocol needs: the gap between rxzk and the floor is rxzk\u2019s own cost.',
    '- **Ratios**: *rxzk / best peer* divides rxzk\u2019s figure by the better of Curator and kazoo on the same row; for a rate (higher is better) above 1× means rxzk is faster, for a latency (lower is better) below 1× means rxzk is faster.',
    '',
  );
  lines.push('### Machine and versions', '');
  lines.push(
    `- Machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}, Docker ${m.docker}; load average ${m.loadAverageAtStart?.join(' / ')} at the start, ${m.loadAverageAtEnd?.join(' / ')} at the end (1/5/15 min).`,
  );
  lines.push(
    `- Run: ${run.run.startedAt} – ${run.run.finishedAt} (${Math.round(run.run.durationS / 60)} min), \`npm run bench${run.run.argv.length ? ` -- ${run.run.argv.join(' ')}` : ''}\`${run.run.complete ? '' : ' (a partial or quick run)'}.`,
  );
  const server = run.topologies[0]?.servers[0];
  lines.push(
    `- ZooKeeper server: ${server?.version ?? 'unknown'} (image \`${run.run.serverImage}\`), JVM flags \`${run.run.serverJvmFlags}\`, \`forceSync=${run.run.forceSync ? 'yes' : 'no'}\`${run.run.forceSync ? '' : ' (the servers share the machine\u2019s disk and page cache; fsync would add the same disk latency to every write of every peer)'}; the ensemble\u2019s clients all connect to one follower.`,
  );
  lines.push('', '| peer | versions | command |', '|---|---|---|');
  for (const peer of PEERS) {
    const p = run.peers[peer];
    if (!p) continue;
    const info = p.info
      ? Object.entries(p.info)
          .map(([k, v]) => `${k}: ${v}`)
          .join('; ')
      : `**did not start**: ${firstLine(p.error ?? '')}`;
    lines.push(`| ${PEER_LABELS[peer]} | ${cell(info)} | \`${cell(p.command)}\` |`);
  }
  lines.push('');
  const first = run.topologies[0];
  if (first?.servers[0]) {
    lines.push(
      '<details><summary>zoo.cfg of the single server (the ensemble adds its server.N lines)</summary>',
      '',
    );
    lines.push('```', first.servers[0].config.trim(), '```', '', '</details>', '');
  }
  return lines;
}

function scenarioSection(index, entry, svgLink) {
  const { record } = entry;
  const lines = [`## ${index}. ${record.title}`, '', record.measures, ''];
  const p = record.params;
  const shown = Object.entries(p)
    .filter(([k]) => k !== 'fixture')
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  lines.push(
    `Parameters: ${shown}; ${record.rounds} measured round(s) after ${record.warmup} warm-up round(s) per peer.`,
    '',
  );
  for (const refusal of entry.refused) {
    lines.push(
      `**No comparison on the ${TOPOLOGY_LABELS[refusal.topology]}**: ${refusal.failures
        .map((f) => `${PEER_LABELS[f.peer]} failed: ${cell(firstLine(f.error))}`)
        .join('; ')}.`,
      '',
    );
  }
  if (entry.rows.length > 0) {
    if (record.scenario === 'fanout') lines.push(...fanoutTable(entry.rows));
    else if (record.headline.kind === 'throughput') lines.push(...rateTable(entry.rows));
    else lines.push(...latencyTable(entry.rows));
    lines.push('');
    for (const link of svgLink) lines.push(`![${record.title}](${link})`, '');
  }
  lines.push(...NOTES[record.scenario].map((n) => `- ${n}`), '');
  return lines;
}

function latencyTable(rows) {
  // Change latency also shows the time from the set *call* (see NOTES.change).
  const call = rows.some(({ record }) => present(record).some((p) => record.peers[p].summary.fromCall));
  const out = [
    `| server | peer | median ms | p90 ms | p99 ms | max ms | samples | rxzk / peer (median) |${call ? ' from the set call: median ms | p99 ms |' : ''}`,
    `|---|---|---:|---:|---:|---:|---:|---:|${call ? '---:|---:|' : ''}`,
  ];
  for (const { topology, record } of rows) {
    const rx = headline(record, 'rxzk');
    for (const peer of present(record)) {
      const s = record.peers[peer].summary;
      const d = s.samples;
      const vs = peer === 'rxzk' ? '' : ratio(rx / d.median);
      const fromCall = call ? ` ${ms(s.fromCall?.median)} | ${ms(s.fromCall?.p99)} |` : '';
      out.push(
        `| ${TOPOLOGY_LABELS[topology]} | ${PEER_LABELS[peer]} | ${ms(d.median)} | ${ms(d.p90)} | ${ms(d.p99)} | ${ms(d.max)} | ${d.n} | ${vs} |${fromCall}`,
      );
    }
    const best = versusBestPeer(record, (p) => headline(record, p), false);
    const p99 = versusBestPeer(record, (p) => record.peers[p].summary.samples.p99, false);
    const fromCall = call
      ? versusBestPeer(record, (p) => record.peers[p].summary.fromCall?.median, false)
      : undefined;
    const callCells = fromCall
      ? ` ${ratio(fromCall.value)} (vs ${PEER_LABELS[fromCall.best] ?? '–'}) | |`
      : '';
    out.push(
      `| ${TOPOLOGY_LABELS[topology]} | **rxzk / best peer** | **${ratio(best.value)}** (vs ${PEER_LABELS[best.best] ?? '–'}) | | ${ratio(p99.value)} | | | lower is better |${callCells}`,
    );
  }
  return out;
}

function rateTable(rows) {
  const { record: r0 } = rows[0];
  const unit = r0.headline.label;
  const out = [
    `| server | peer | ${unit} (median of rounds) | min – max | ${r0.samplesLabel} median ms | p99 ms | rxzk / peer (rate) |`,
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const { topology, record } of rows) {
    const rx = headline(record, 'rxzk');
    for (const peer of present(record)) {
      const s = record.peers[peer].summary;
      const vs = peer === 'rxzk' ? '' : ratio(rx / s.throughput.median);
      out.push(
        `| ${TOPOLOGY_LABELS[topology]} | ${PEER_LABELS[peer]} | ${rate(s.throughput.median)} | ${rate(s.throughput.min)} – ${rate(s.throughput.max)} | ${ms(s.samples?.median)} | ${ms(s.samples?.p99)} | ${vs} |`,
      );
    }
    const best = versusBestPeer(record, (p) => headline(record, p), true);
    out.push(
      `| ${TOPOLOGY_LABELS[topology]} | **rxzk / best peer** | **${ratio(best.value)}** (vs ${PEER_LABELS[best.best] ?? '–'}) | | | | higher is better |`,
    );
  }
  const duplicates = rows.flatMap(({ topology, record }) =>
    present(record)
      .filter((p) => (record.peers[p].summary.figures.duplicates ?? 0) > 0)
      .map(
        (p) =>
          `${PEER_LABELS[p]} (${TOPOLOGY_LABELS[topology]}): ${record.peers[p].summary.figures.duplicates} redelivered`,
      ),
  );
  if (duplicates.length > 0)
    out.push(
      '',
      `Items delivered twice (at-least-once redelivery, median per round): ${duplicates.join('; ')}.`,
    );
  return out;
}

/** RSS growth means something only for the Node peers (the C client's tables live outside the heap). */
const NATIVE_MEMORY = new Set(['rxzk', 'floor']);

function fanoutTable(rows) {
  const out = [
    '| server | peer | server watches | heap / subscription | heap + native (RSS) / subscription | delivery median ms | p99 ms | from the set call: median ms | watches left after unsubscribe |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { topology, record } of rows) {
    for (const peer of present(record)) {
      const s = record.peers[peer].summary;
      const f = s.figures;
      const rss = NATIVE_MEMORY.has(peer) ? bytes(f.rssBytesPerSubscription) : '–';
      out.push(
        `| ${TOPOLOGY_LABELS[topology]} | ${PEER_LABELS[peer]} | ${rate(f.serverWatches)} | ${bytes(f.heapBytesPerSubscription)} | ${rss} | ${ms(s.samples?.median)} | ${ms(s.samples?.p99)} | ${ms(s.fromCall?.median)} | ${rate(f.watchesLeft)} |`,
      );
    }
    const heap = versusBestPeer(
      record,
      (p) => record.peers[p].summary.figures.heapBytesPerSubscription,
      false,
    );
    const delivery = versusBestPeer(record, (p) => headline(record, p), false);
    const call = versusBestPeer(record, (p) => record.peers[p].summary.fromCall?.median, false);
    out.push(
      `| ${TOPOLOGY_LABELS[topology]} | **rxzk / best peer** | | ${ratio(heap.value)} | | **${ratio(delivery.value)}** | | ${ratio(call.value)} | lower is better |`,
    );
  }
  return out;
}

function charts(entry) {
  const { record } = entry;
  const unitMs = 'milliseconds';
  const svgs = [];
  const rowsFor = (pick) =>
    entry.rows.flatMap(({ topology, record: rec }) =>
      present(rec).map((peer) => pick(rec, peer, TOPOLOGY_LABELS[topology])),
    );
  if (record.headline.kind === 'throughput') {
    svgs.push({
      name: `${record.scenario}-rate.svg`,
      svg: distributionChart({
        title: `${record.title}: ${record.headline.label}, per round`,
        unit: record.headline.label,
        legend: 'one dot per measured round; thick line the median, box p25–p75, thin line min–max',
        rows: rowsFor((rec, peer, group) => {
          const points = ratesOf(rec, peer);
          const d = rec.peers[peer].summary.throughput;
          return {
            peer,
            group,
            label: PEER_LABELS[peer],
            dist: d,
            points,
            text: `${rate(d.median)}${rec.headline.unit}`,
          };
        }),
      }),
    });
  }
  if (record.scenario === 'fanout') {
    svgs.push({
      name: 'fanout-memory.svg',
      svg: distributionChart({
        title: 'Fan-out: client memory per subscription, after full GCs',
        unit: 'bytes per subscription',
        barsOnly: true,
        legend:
          'solid: managed heap growth; light: heap + native (RSS) growth, Node peers only (see the notes)',
        rows: rowsFor((rec, peer, group) => {
          const f = rec.peers[peer].summary.figures;
          const bars = [
            { value: f.heapBytesPerSubscription ?? 0, text: `heap ${bytes(f.heapBytesPerSubscription)}` },
          ];
          if (NATIVE_MEMORY.has(peer)) {
            bars.push({
              value: f.rssBytesPerSubscription ?? 0,
              text: `RSS ${bytes(f.rssBytesPerSubscription)}`,
            });
          }
          return { peer, group, label: PEER_LABELS[peer], bars };
        }),
      }),
    });
  }
  svgs.push({
    name: `${record.scenario}.svg`,
    svg: distributionChart({
      title: `${record.title}: ${record.samplesLabel ?? record.headline.label}`,
      unit: unitMs,
      legend:
        'box p25–p75, thick line median, triangle p99, thin line min–max, dots samples (up to 300 shown)',
      rows: rowsFor((rec, peer, group) => {
        const d = rec.peers[peer].summary.samples;
        return {
          peer,
          group,
          label: PEER_LABELS[peer],
          dist: d,
          points: samplesOf(rec, peer),
          text: `p50 ${ms(d.median)}`,
        };
      }),
    }),
  });
  return svgs;
}

function headlines(byScenario, topologies) {
  const lines = [
    '## Headline: rxzk against the best of Curator and kazoo',
    '',
    'Each cell: rxzk\u2019s figure divided by the better peer\u2019s (named), then by the floor\u2019s.',
    '',
  ];
  lines.push(`| scenario | measure | ${topologies.map((t) => TOPOLOGY_LABELS[t]).join(' | ')} |`);
  lines.push(`|---|---|${topologies.map(() => '---:').join('|')}|`);
  for (const name of SCENARIO_ORDER) {
    const entry = byScenario.get(name);
    if (!entry) continue;
    const { record } = entry;
    const higher = record.headline.kind === 'throughput';
    const measure = higher
      ? `${record.headline.label}: rxzk\u2019s median rate \u00f7 theirs (higher is better)`
      : `${record.headline.label}: rxzk\u2019s median time \u00f7 theirs (lower is better)`;
    const cells = topologies.map((t) => {
      const row = entry.rows.find((r) => r.topology === t);
      if (!row)
        return entry.refused.some((r) => r.topology === t) ? 'no comparison (a peer failed)' : 'not run';
      const best = versusBestPeer(row.record, (p) => headline(row.record, p), higher);
      const floor = headline(row.record, 'rxzk') / headline(row.record, 'floor');
      return `**${ratio(best.value)}** ${PEER_LABELS[best.best] ?? '–'} · ${ratio(floor)} floor`;
    });
    lines.push(`| ${cell(record.title)} | ${measure} | ${cells.join(' | ')} |`);
    if (name === 'fanout') {
      const heap = topologies.map((t) => {
        const row = entry.rows.find((r) => r.topology === t);
        if (!row)
          return entry.refused.some((r) => r.topology === t) ? 'no comparison (a peer failed)' : 'not run';
        const pick = (p) => row.record.peers[p].summary.figures.heapBytesPerSubscription;
        const best = versusBestPeer(row.record, pick, false);
        return `**${ratio(best.value)}** ${PEER_LABELS[best.best] ?? '–'} · ${ratio(pick('rxzk') / pick('floor'))} floor`;
      });
      lines.push(
        `| ${cell(record.title)} | client heap per subscription: rxzk\u2019s \u00f7 theirs (lower is better) | ${heap.join(' | ')} |`,
      );
    }
  }
  lines.push('');
  return lines;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const run = JSON.parse(readFileSync(args.json, 'utf8'));
  const outDir = dirname(args.json);
  const mdDir = dirname(args.md);
  const byScenario = comparisons(run);
  const topologies = run.topologies.map((t) => t.name);
  const lines = [
    '# Benchmarks: rxzk, Apache Curator, kazoo and the raw-client floor',
    '',
    `Generated by \`node scripts/bench-report.mjs ${relative(mdDir, args.json)}\` from one run of \`npm run bench\` (${run.run.startedAt.slice(0, 10)}); do not edit: run \`npm run bench\` to measure again. Every figure below comes from that run.json.`,
    '',
  ];
  if (!run.run.complete) {
    lines.push(
      `> **A partial run** (\`npm run bench -- ${run.run.argv.join(' ')}\`${run.run.quick ? ': quick parameters, not enough repetitions for stable figures' : ''}). A full \`npm run bench\` on a quiet machine replaces it.`,
      '',
    );
  }
  const refusedAny = [...byScenario.values()].some((e) => e.refused.length > 0);
  if (refusedAny)
    lines.push('> **Some scenarios have no comparison**: a peer failed in them (see each section).', '');
  lines.push(...headlines(byScenario, topologies));
  let written = 0;
  let index = 0;
  const sections = [];
  for (const name of SCENARIO_ORDER) {
    const entry = byScenario.get(name);
    if (!entry) continue;
    index++;
    const links = [];
    if (entry.rows.length > 0) {
      for (const { name: file, svg } of charts(entry)) {
        writeFileSync(join(outDir, file), svg);
        written++;
        links.push(relative(mdDir, join(outDir, file)));
      }
    }
    sections.push(...scenarioSection(index, entry, links));
  }
  lines.push(...sections);
  lines.push(...methodSection(run));
  writeFileSync(
    args.md,
    `${lines
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd()}\n`,
  );
  process.stdout.write(
    `bench-report: wrote ${relative(process.cwd(), args.md)} and ${written} chart(s) in ${relative(process.cwd(), outDir) || '.'}\n`,
  );
  if (refusedAny) process.stdout.write('bench-report: some scenarios have no comparison (a peer failed)\n');
}

main();
