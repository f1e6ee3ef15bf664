/**
 * The six scenarios: their parameters (full and quick), how many rounds, which steps a round has,
 * which results prove a peer did the work correctly, and the figures the report tables show.
 */
import type { Params, PeerName, ScenarioName, StepResult } from './protocol.js';
import { distribution, type Distribution } from './stats.js';

/** What the headline figure is: a latency (lower is better) or a rate (higher is better). */
export type Headline =
  | { readonly kind: 'latency'; readonly label: string }
  | { readonly kind: 'throughput'; readonly label: string; readonly unit: string };

export interface ScenarioSpec {
  readonly name: ScenarioName;
  readonly title: string;
  /** What is timed, in one sentence (the report prints it above the table). */
  readonly measures: string;
  /** The steps of one round, in order (each a request to the worker). */
  readonly steps: readonly string[];
  readonly params: { readonly full: Params; readonly quick: Params };
  readonly rounds: { readonly full: number; readonly quick: number };
  readonly warmup: { readonly full: number; readonly quick: number };
  /** The shared read-only nodes the orchestrator creates first (tree, fan-out paths). */
  readonly fixture?: 'tree' | 'fanout';
  readonly headline: Headline;
  /** What the per-round `samples` are, when the headline is a rate (lock gaps, item latencies). */
  readonly samplesLabel?: string;
  /** Why a round's result cannot be trusted (a broken guarantee, missing work), or undefined. */
  check(result: StepResult, params: Params, step: string): string | undefined;
}

const n = (params: Params, name: string): number => Number(params[name]);
const count = (result: StepResult, name: string): number => Number(result[name] ?? Number.NaN);

/** Nodes of the tree fixture: the root, `children` under it, `grandchildren` under each of those. */
export const treeNodes = (params: Params): number =>
  1 + n(params, 'children') + n(params, 'children') * n(params, 'grandchildren');

export const SPECS: Readonly<Record<ScenarioName, ScenarioSpec>> = {
  lock: {
    name: 'lock',
    title: 'Lock handoff throughput, 8 contenders on one lock',
    measures:
      '8 sessions in one process, each looping acquire / release on one lock; acquisitions per second over a round, and the handoff gap (a release call to the next acquisition).',
    steps: ['round'],
    params: { full: { contenders: 8, turns: 100 }, quick: { contenders: 8, turns: 5 } },
    rounds: { full: 5, quick: 1 },
    warmup: { full: 1, quick: 0 },
    headline: { kind: 'throughput', label: 'acquisitions/s', unit: '/s' },
    samplesLabel: 'handoff gap',
    check(result, params) {
      const expected = n(params, 'contenders') * n(params, 'turns');
      if (count(result, 'acquisitions') !== expected)
        return `${count(result, 'acquisitions')} acquisitions, expected ${expected}`;
      if (count(result, 'overlaps') !== 0)
        return `mutual exclusion broken ${count(result, 'overlaps')} times`;
      if (count(result, 'maxHolders') > 1) return `${count(result, 'maxHolders')} holders at once`;
      return undefined;
    },
  },
  failover: {
    name: 'failover',
    title: 'Graceful leader failover',
    measures:
      '3 candidates in one process, one session each; the leader resigns (closes its latch / returns / unsubscribes / deletes its node); time to the next candidate\u2019s "I lead" callback. The old leader rejoins, untimed, before the next failover.',
    steps: ['round'],
    params: { full: { candidates: 3, failovers: 50 }, quick: { candidates: 3, failovers: 5 } },
    rounds: { full: 5, quick: 1 },
    warmup: { full: 1, quick: 0 },
    headline: { kind: 'latency', label: 'failover' },
    check(result, params) {
      if (count(result, 'failovers') !== n(params, 'failovers'))
        return `${count(result, 'failovers')} failovers, expected ${n(params, 'failovers')}`;
      if (count(result, 'overlaps') !== 0) return `two leaders at once ${count(result, 'overlaps')} times`;
      return undefined;
    },
  },
  change: {
    name: 'change',
    title: 'Change latency: the writer\u2019s set resolves \u2192 the subscriber sees the value',
    measures:
      'A writer session sets one node, a subscriber session watches it (CuratorCache / DataWatch / data$ / a raw get-and-watch loop); time from the set call returning to the subscriber\u2019s callback with the new value (0 when the callback came first).',
    steps: ['round'],
    params: { full: { changes: 200 }, quick: { changes: 10 } },
    rounds: { full: 5, quick: 1 },
    warmup: { full: 1, quick: 0 },
    headline: { kind: 'latency', label: 'change seen' },
    check(result, params) {
      const got = result.samples?.length ?? 0;
      return got === n(params, 'changes')
        ? undefined
        : `${got} changes seen, expected ${n(params, 'changes')}`;
    },
  },
  tree: {
    name: 'tree',
    title: 'Tree priming: load and watch a 10,000-node subtree',
    measures:
      'A fresh session per round; time from starting the cache (CuratorCache / TreeCache / tree$ / raw pipelined reads with watches) to its "initialized" signal with every node loaded.',
    steps: ['round'],
    params: { full: { children: 99, grandchildren: 100 }, quick: { children: 9, grandchildren: 20 } },
    rounds: { full: 7, quick: 1 },
    warmup: { full: 1, quick: 0 },
    fixture: 'tree',
    headline: { kind: 'latency', label: 'priming' },
    check(result, params) {
      const expected = treeNodes(params);
      return count(result, 'nodes') === expected
        ? undefined
        : `${count(result, 'nodes')} nodes loaded, expected ${expected}`;
    },
  },
  queue: {
    name: 'queue',
    title: 'Queue throughput, 1 producer / 4 consumers, at least once',
    measures:
      'One producer session awaits each put; 4 consumer sessions take items one at a time and ack (delete) each; items per second from the first put to the last item handed to a consumer. Per-item latency: put call to the consumer\u2019s callback.',
    steps: ['round'],
    params: { full: { items: 1000, consumers: 4 }, quick: { items: 30, consumers: 4 } },
    rounds: { full: 5, quick: 1 },
    warmup: { full: 1, quick: 0 },
    headline: { kind: 'throughput', label: 'items/s', unit: '/s' },
    samplesLabel: 'item latency',
    check(result, params) {
      if (count(result, 'delivered') !== n(params, 'items'))
        return `${count(result, 'delivered')} items delivered, expected ${n(params, 'items')}`;
      if (count(result, 'leftover') !== 0) return `${count(result, 'leftover')} items never acked`;
      return undefined;
    },
  },
  fanout: {
    name: 'fanout',
    title: 'Fan-out: 1,000 watched paths \u00d7 10 subscribers',
    measures:
      'One session subscribes 10 times to each of 1,000 nodes; server watches (mntr zk_watch_count), client memory after full GCs (managed heap and RSS, per subscription), a change\u2019s delivery to all 10 subscribers of its path, and the server watches left once every subscriber is gone (before the session closes).',
    steps: ['subscribe', 'deliver', 'unsubscribe', 'close'],
    params: {
      full: { paths: 1000, subscribers: 10, changes: 50 },
      quick: { paths: 30, subscribers: 10, changes: 5 },
    },
    rounds: { full: 3, quick: 1 },
    warmup: { full: 1, quick: 0 },
    fixture: 'fanout',
    headline: { kind: 'latency', label: 'delivery to all 10' },
    check(result, params, step) {
      if (step === 'subscribe') {
        const expected = n(params, 'paths') * n(params, 'subscribers');
        return count(result, 'subscriptions') === expected
          ? undefined
          : `${count(result, 'subscriptions')} subscriptions, expected ${expected}`;
      }
      if (step === 'deliver') {
        const got = result.samples?.length ?? 0;
        return got === n(params, 'changes')
          ? undefined
          : `${got} deliveries, expected ${n(params, 'changes')}`;
      }
      return undefined;
    },
  },
};

/** One measured round of one peer: what each step reported, and the orchestrator's own probes. */
export interface RoundRecord {
  readonly round: number;
  readonly steps: Record<string, StepResult>;
  readonly probes: Record<string, number>;
}

export interface PeerSummary {
  /** Pooled samples of every round (latencies, or the rate scenarios' secondary samples), ms. */
  readonly samples?: Distribution;
  /**
   * Change and fan-out: from the writer's set *call* to the subscriber (the headline starts when the
   * set resolves, so a writer whose reply path is slow would look faster; this one does not).
   */
  readonly fromCall?: Distribution;
  /** Per-round rate, for throughput headlines. */
  readonly throughput?: Distribution;
  /** Medians over rounds of the other figures (fan-out memory and watches, early, duplicates). */
  readonly figures: Record<string, number>;
}

const median = (xs: readonly number[]): number => distribution(xs).median;

/** The summary of a peer's rounds in one scenario. */
export function summarize(spec: ScenarioSpec, rounds: readonly RoundRecord[]): PeerSummary {
  const samples = rounds.flatMap((r) => Object.values(r.steps).flatMap((s) => s.samples ?? []));
  const fromCall = rounds.flatMap((r) =>
    Object.values(r.steps).flatMap((s) => (Array.isArray(s['fromCall']) ? (s['fromCall'] as number[]) : [])),
  );
  const figures: Record<string, number> = {};
  const collect = (name: string, pick: (r: RoundRecord) => number | undefined): void => {
    const values = rounds.map(pick).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (values.length > 0) figures[name] = median(values);
  };
  for (const figure of ['early', 'duplicates', 'leftover']) {
    collect(figure, (r) => {
      const values = Object.values(r.steps).map((s) => s[figure]);
      return values.some((v) => typeof v === 'number')
        ? values.reduce<number>((sum, v) => sum + (typeof v === 'number' ? v : 0), 0)
        : undefined;
    });
  }
  if (spec.name === 'fanout') {
    const subscribed = (r: RoundRecord): StepResult => r.steps['subscribe'] ?? {};
    collect('subscriptions', (r) => subscribed(r)['subscriptions'] as number | undefined);
    collect('heapBytes', (r) => subscribed(r)['heapBytes'] as number | undefined);
    collect('rssBytes', (r) => subscribed(r)['rssBytes'] as number | undefined);
    collect('serverWatches', (r) => r.probes['watchesSubscribed']);
    collect('watchesLeft', (r) => r.probes['watchesLeft']);
    const subs = figures['subscriptions'];
    if (subs) {
      if (figures['heapBytes'] !== undefined)
        figures['heapBytesPerSubscription'] = figures['heapBytes'] / subs;
      if (figures['rssBytes'] !== undefined) figures['rssBytesPerSubscription'] = figures['rssBytes'] / subs;
    }
  }
  const rates = rounds
    .map((r) => r.steps['round']?.throughput)
    .filter((v): v is number => typeof v === 'number');
  return {
    ...(samples.length > 0 ? { samples: distribution(samples) } : {}),
    ...(fromCall.length > 0 ? { fromCall: distribution(fromCall) } : {}),
    ...(spec.headline.kind === 'throughput' && rates.length > 0 ? { throughput: distribution(rates) } : {}),
    figures,
  };
}

/** How each peer is named in tables and charts. */
export const PEER_LABELS: Readonly<Record<PeerName, string>> = {
  rxzk: 'rxzk',
  curator: 'Curator 5.4',
  kazoo: 'kazoo 2.8',
  floor: 'floor (raw C binding)',
};
