/**
 * The line protocol between the benchmark orchestrator (bench/suite/run.ts) and its peer workers (one OS
 * process per peer: rxzk, the raw-binding floor, Curator in Java, kazoo in Python).
 *
 * One JSON object per line. The orchestrator writes requests on the worker's stdin, one at a time, and
 * waits for the reply with the same `id` on the worker's stdout; the worker writes nothing else on
 * stdout (its logs go to stderr). Every time a worker reports is from its own monotonic clock, taken
 * inside one process (System.nanoTime, time.perf_counter, performance.now), in milliseconds.
 *
 *   {"id":1,"cmd":"hello"}                                  -> {"id":1,"ok":true,"info":{...versions}}
 *   {"id":2,"cmd":"setup","scenario":"lock","connect":"127.0.0.1:2181","root":"/rxzk-bench/lock/rxzk",
 *    "sessionTimeout":10000,"params":{"contenders":8,"turns":100}}    -> {"id":2,"ok":true}
 *   {"id":3,"cmd":"step","scenario":"lock","step":"round","round":0} -> {"id":3,"ok":true,"result":{...}}
 *   {"id":4,"cmd":"teardown","scenario":"lock"}             -> {"id":4,"ok":true}
 *   {"id":5,"cmd":"exit"}                                   -> {"id":5,"ok":true}, then the process exits
 *
 * A failure is `{"id":n,"ok":false,"error":"<what and why>"}`; the worker stays usable for the next
 * scenario when it can. Setup opens the sessions a scenario needs (untimed); a step does the timed work.
 */

export const SCENARIOS = ['lock', 'failover', 'change', 'tree', 'queue', 'fanout'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const PEERS = ['rxzk', 'curator', 'kazoo', 'floor'] as const;
export type PeerName = (typeof PEERS)[number];

export type Params = Readonly<Record<string, number | string>>;

export type Request =
  | { readonly id: number; readonly cmd: 'hello' }
  | {
      readonly id: number;
      readonly cmd: 'setup';
      readonly scenario: ScenarioName;
      readonly connect: string;
      readonly root: string;
      readonly sessionTimeout: number;
      readonly params: Params;
    }
  | {
      readonly id: number;
      readonly cmd: 'step';
      readonly scenario: ScenarioName;
      readonly step: string;
      readonly round: number;
    }
  | { readonly id: number; readonly cmd: 'teardown'; readonly scenario: ScenarioName }
  | { readonly id: number; readonly cmd: 'exit' };

export type Reply =
  | { readonly id: number; readonly ok: true; readonly info?: PeerInfo; readonly result?: StepResult }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** What a worker says about itself: library and runtime versions, free-form. */
export type PeerInfo = Readonly<Record<string, string>>;

/**
 * What one step reports. Every field is optional; a scenario decides which it needs:
 * - `samples`: latencies in ms (distribution: median, p99);
 * - `throughput`: operations per second over the step;
 * - any other number: a count or a check (`overlaps`, `duplicates`, `nodes`, `heapBytes`, ...).
 */
export interface StepResult {
  readonly samples?: readonly number[];
  readonly throughput?: number;
  readonly [figure: string]: number | readonly number[] | undefined;
}
