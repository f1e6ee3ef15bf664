/**
 * A linearizability checker (Wing & Gong's search with Lowe's memoisation, "Testing for
 * linearizability", 2017) and the register model of fault matrix row 10, plus a check of sequential
 * consistency for reads that may be stale.
 *
 * A history is a list of operations, each with its invocation and completion time on one clock, its
 * input and its output. An operation whose outcome is unknown (a write that failed with connection
 * loss: it may or may not have taken effect) has no completion: it may take effect at any moment after
 * its invocation, or never (Jepsen's "info" operations, completing at +infinity).
 *
 * The search walks the history in time order and tries to place ("linearize") each operation at a
 * point between its invocation and its completion such that the model, applying the placed operations
 * in that order, produces every output observed. Placing an operation removes it from the list;
 * meeting the completion of an operation not yet placed means the current order cannot be completed:
 * the last placement is undone and the next candidate tried. A set of (placed operations, model state)
 * already explored is never explored again, which keeps a history of a few hundred operations with a
 * handful running at a time to a few thousand steps (operations of unknown outcome are tried last, and
 * interchangeable ones are counted, not told apart: see Model.symmetry). The history is linearizable when every operation
 * with a completion is placed (operations without one may stay unplaced: they never took effect).
 */

/** One operation of a history. Times are on one clock shared by every process (e.g. CLOCK_MONOTONIC). */
export interface Operation<I, O> {
  readonly call: bigint;
  /** When it completed; undefined when its outcome is unknown (it may have taken effect, or not). */
  readonly ret: bigint | undefined;
  readonly input: I;
  /** What it returned; undefined together with `ret` (unknown outcome). */
  readonly output: O | undefined;
}

/** A sequential specification. */
export interface Model<S, I, O> {
  readonly init: S;
  /**
   * The states the operation may lead to when applied to `state`, given what it returned (`output`
   * undefined: unknown, it took effect). Empty when it could not have returned `output` in `state`.
   */
  step(state: S, input: I, output: O | undefined): readonly S[];
  /**
   * Identifies a state, for memoisation: equal keys for states no later operation can tell apart
   * (equal states, or states that differ only in what nothing ever observes).
   */
  key(state: S): string;
  /**
   * Optional symmetry: operations of unknown outcome whose inputs get the same class are
   * interchangeable (whichever of them took effect, nothing later can tell). The search then remembers
   * how many of a class it placed, not which: without it, k pending writes nobody read make 2^k copies
   * of the same search.
   */
  symmetry?(input: I): string | undefined;
}

export interface CheckResult {
  /** `'unknown'` when the search passed `maxSteps` without an answer. */
  readonly valid: boolean | 'unknown';
  /** Placements tried. */
  readonly steps: number;
  /** Configurations (placed set, state) remembered. */
  readonly cached: number;
  /** A valid order (indices into the history, unplaced unknown-outcome operations left out). */
  readonly order?: readonly number[];
  /**
   * When invalid: the longest order the search could build, and the operation (index) whose
   * completion it could not get past at that depth.
   */
  readonly longest?: readonly number[];
  readonly stuckAt?: number;
}

interface Entry {
  readonly op: number;
  /** A call entry (else the return entry of `op`). */
  readonly call: boolean;
  readonly time: bigint;
  /** The call entry's return entry (undefined for unknown-outcome operations and for return entries). */
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

interface Candidate<S> {
  readonly entry: Entry;
  readonly next: S;
}

interface Frame<S> {
  /** Placements to try from this configuration, known-outcome operations first. */
  readonly candidates: readonly Candidate<S>[];
  index: number;
  /** The placement that led here (none for the root) and the state before it. */
  readonly placed: Entry | undefined;
  readonly before: S;
}

/** Whether `history` is linearizable with respect to `model`. */
export function checkLinearizable<S, I, O>(
  history: readonly Operation<I, O>[],
  model: Model<S, I, O>,
  options: { maxSteps?: number } = {},
): CheckResult {
  const maxSteps = options.maxSteps ?? 5_000_000;
  // The entries in time order; at equal times calls first (overlapping: the permissive reading).
  const entries: Entry[] = [];
  history.forEach((operation, op) => {
    if ((operation.ret === undefined) !== (operation.output === undefined)) {
      throw new Error(`operation ${op}: an unknown outcome has neither completion time nor output`);
    }
    if (operation.ret !== undefined && operation.ret < operation.call) {
      throw new Error(`operation ${op} completes before it is invoked`);
    }
    const call: Entry = {
      op,
      call: true,
      time: operation.call,
      match: undefined,
      prev: undefined,
      next: undefined,
    };
    entries.push(call);
    if (operation.ret !== undefined) {
      const ret: Entry = {
        op,
        call: false,
        time: operation.ret,
        match: undefined,
        prev: undefined,
        next: undefined,
      };
      call.match = ret;
      entries.push(ret);
    }
  });
  entries.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : Number(b.call) - Number(a.call)));
  const head: Entry = { op: -1, call: false, time: 0n, match: undefined, prev: undefined, next: undefined };
  let last = head;
  for (const entry of entries) {
    last.next = entry;
    entry.prev = last;
    last = entry;
  }
  // Returns still in the list: the history is linearized when none is left.
  let returns = entries.filter((e) => !e.call).length;

  /** Takes a call entry and its return entry out of the list (they keep their own links). */
  const lift = (entry: Entry): void => {
    entry.prev!.next = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    const ret = entry.match;
    if (ret) {
      ret.prev!.next = ret.next;
      if (ret.next) ret.next.prev = ret.prev;
      returns--;
    }
  };
  /** Puts them back, in the reverse order of lift. */
  const unlift = (entry: Entry): void => {
    const ret = entry.match;
    if (ret) {
      ret.prev!.next = ret;
      if (ret.next) ret.next.prev = ret;
      returns++;
    }
    entry.prev!.next = entry;
    if (entry.next) entry.next.prev = entry;
  };

  // What is placed: exact bits for every operation outside a symmetry class (kept as a bigint: exact,
  // no hash collisions, cheap at this size), a count per class for the others.
  const classOf = history.map((operation) =>
    operation.ret === undefined ? model.symmetry?.(operation.input) : undefined,
  );
  const classes = [...new Set(classOf.filter((c): c is string => c !== undefined))];
  const classIndex = classOf.map((c) => (c === undefined ? -1 : classes.indexOf(c)));
  const counts = classes.map(() => 0);
  let bits = 0n;
  const masks = history.map((_, i) => (classIndex[i] === -1 ? 1n << BigInt(i) : 0n));
  const mark = (op: number, by: 1 | -1): void => {
    const c = classIndex[op]!;
    if (c === -1) bits ^= masks[op]!;
    else counts[c]! += by;
  };
  const cache = new Set<string>();

  let state = model.init;
  /** The placements possible now: every call entry before the first completion still in the list. */
  const candidates = (): Candidate<S>[] => {
    const known: Candidate<S>[] = [];
    const unknown: Candidate<S>[] = [];
    for (let e = head.next; e !== undefined && e.call; e = e.next) {
      const operation = history[e.op]!;
      for (const next of model.step(state, operation.input, operation.output)) {
        (e.match ? known : unknown).push({ entry: e, next });
      }
    }
    // Unknown outcomes last: "it did not take effect (yet)" is tried first.
    return known.concat(unknown);
  };

  const stack: Frame<S>[] = [{ candidates: candidates(), index: 0, placed: undefined, before: state }];
  let steps = 0;
  let longest: number[] = [];
  let stuckAt: number | undefined;
  const order = (): number[] => stack.slice(1).map((f) => f.placed!.op);

  for (;;) {
    if (returns === 0) return { valid: true, steps, cached: cache.size, order: order() };
    if (steps > maxSteps) return { valid: 'unknown', steps, cached: cache.size };
    const frame = stack[stack.length - 1]!;
    if (frame.index >= frame.candidates.length) {
      // Every placement from here failed: undo the one that led here.
      if (stack.length - 1 > longest.length) {
        longest = order();
        let e = head.next;
        while (e !== undefined && e.call) e = e.next;
        stuckAt = e?.op;
      }
      stack.pop();
      if (!frame.placed) return { valid: false, steps, cached: cache.size, longest, stuckAt };
      unlift(frame.placed);
      mark(frame.placed.op, -1);
      state = frame.before;
      continue;
    }
    const { entry, next } = frame.candidates[frame.index++]!;
    steps++;
    mark(entry.op, 1);
    const key = `${bits.toString(36)}|${counts.join(',')}|${model.key(next)}`;
    if (cache.has(key)) {
      mark(entry.op, -1);
      continue;
    }
    cache.add(key);
    const before = state;
    state = next;
    lift(entry);
    stack.push({ candidates: candidates(), index: 0, placed: entry, before });
  }
}

// ---------------------------------------------------------------------------------------------------
// The register of row 10: one znode, its data and its version.

export interface RegisterState {
  readonly value: string;
  readonly version: number;
}

export type RegisterInput =
  /** sync() then get(): the state when it was read. */
  | { readonly f: 'read' }
  /** An unversioned set(value). */
  | { readonly f: 'write'; readonly value: string }
  /** set(value, expected): compare-and-set on the Stat version. */
  | { readonly f: 'cas'; readonly value: string; readonly expected: number };

export type RegisterOutput =
  | { readonly f: 'read'; readonly value: string; readonly version: number }
  /** The node's version after the write (from set()'s Stat). */
  | { readonly f: 'write'; readonly version: number }
  /** ok: written (at `version`); not ok: BadVersion. */
  | { readonly f: 'cas'; readonly ok: boolean; readonly version?: number };

/**
 * A znode as a register: every write (set) increments its version; a versioned set succeeds exactly
 * when the version matches. A write or compare-and-set of unknown outcome, placed, took effect (one
 * never placed did not).
 *
 * With `history`, values no read ever returned are keyed alike (no later read can tell such states
 * apart) and unknown-outcome writes of such values are symmetric (compare-and-sets too, per expected
 * version): see Model.symmetry.
 */
export function registerModel(
  init: RegisterState,
  history?: readonly Operation<RegisterInput, RegisterOutput>[],
): Model<RegisterState, RegisterInput, RegisterOutput> {
  const observed = new Set<string>([init.value]);
  for (const op of history ?? []) if (op.output?.f === 'read') observed.add(op.output.value);
  const unseen = (value: string): boolean => history !== undefined && !observed.has(value);
  return {
    init,
    key: (s) => `${s.version}:${unseen(s.value) ? '' : `=${s.value}`}`,
    symmetry: (input) =>
      input.f === 'read' || !unseen(input.value)
        ? undefined
        : input.f === 'write'
          ? 'w'
          : `c${input.expected}`,
    step(state, input, output) {
      switch (input.f) {
        case 'read':
          if (output === undefined) return [state];
          return output.f === 'read' && output.value === state.value && output.version === state.version
            ? [state]
            : [];
        case 'write': {
          const next = { value: input.value, version: state.version + 1 };
          if (output === undefined) return [next];
          return output.f === 'write' && output.version === next.version ? [next] : [];
        }
        case 'cas': {
          const matches = state.version === input.expected;
          if (output === undefined)
            return matches ? [{ value: input.value, version: state.version + 1 }] : [];
          if (output.f !== 'cas') return [];
          if (!output.ok) return matches ? [] : [state];
          if (!matches) return [];
          const next = { value: input.value, version: state.version + 1 };
          return output.version === undefined || output.version === next.version ? [next] : [];
        }
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Sequential consistency of reads that may be stale (ZooKeeper's plain reads, served by any server).

/** An operation of one process, in its program order, with what it returned (undefined: unknown). */
export interface ProcessOperation {
  readonly process: string;
  readonly input: RegisterInput;
  readonly output: RegisterOutput | undefined;
}

export interface SequentialResult {
  readonly valid: boolean;
  /** What breaks it, one line each. */
  readonly problems: readonly string[];
}

/**
 * Whether the operations (each process's in its program order) are sequentially consistent for the
 * versioned register: versions order the writes totally, so the history is sequentially consistent
 * exactly when (1) every version shows one value, and every value a read returned was written (or is
 * the initial one), (2) no version appears without a write that may have made it, and (3) each process
 * moves forward in that order: a read returns a version at least the last one the process saw or made,
 * a write makes a version above it. Real time is not compared: a read may be stale, not from a fork.
 */
export function checkSequential(
  init: RegisterState,
  operations: readonly ProcessOperation[],
): SequentialResult {
  const problems: string[] = [];
  const valueAt = new Map<number, string>([[init.version, init.value]]);
  const at = (version: number, value: string, what: string): void => {
    const known = valueAt.get(version);
    if (known === undefined) valueAt.set(version, value);
    else if (known !== value) problems.push(`${what}: version ${version} holds '${known}', not '${value}'`);
  };
  const written = new Set<string>([init.value]);
  let mayWrite = 0;
  for (const op of operations) {
    if (op.input.f !== 'read') {
      written.add(op.input.value);
      if (op.output === undefined || (op.output.f !== 'read' && (op.output.f === 'write' || op.output.ok))) {
        mayWrite++;
      }
    }
  }
  const floor = new Map<string, number>();
  operations.forEach((op, i) => {
    const what = `operation ${i} (${op.process} ${op.input.f})`;
    const last = floor.get(op.process) ?? init.version;
    if (op.output === undefined) return;
    if (op.output.f === 'read') {
      at(op.output.version, op.output.value, what);
      if (!written.has(op.output.value)) problems.push(`${what}: read '${op.output.value}', never written`);
      if (op.output.version < last) {
        problems.push(`${what}: read version ${op.output.version} after this process saw ${last}`);
      }
      floor.set(op.process, Math.max(last, op.output.version));
      return;
    }
    const version =
      op.output.f === 'write' ? op.output.version : op.output.ok ? op.output.version : undefined;
    if (version === undefined) return;
    if (op.input.f !== 'read') at(version, op.input.value, what);
    if (version <= last) problems.push(`${what}: wrote version ${version} after this process saw ${last}`);
    floor.set(op.process, version);
  });
  const highest = Math.max(...valueAt.keys());
  if (highest - init.version > mayWrite) {
    problems.push(`version ${highest} seen, but at most ${mayWrite} writes may have taken effect`);
  }
  return { valid: problems.length === 0, problems };
}
