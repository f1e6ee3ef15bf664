/**
 * The checker of fault matrix row 10 on small histories whose verdict is known, so it is shown to say
 * "invalid" as well as "valid": stale reads, lost updates, two successful compare-and-sets on one
 * version, a value that appears and disappears, and operations of unknown outcome that did or did not
 * take effect. Then random histories of a simulated register (valid by construction, with many
 * operations overlapping) and the same histories with one output falsified.
 */
import { describe, expect, it } from 'vitest';
import {
  checkLinearizable,
  checkSequential,
  registerModel,
  type Operation,
  type ProcessOperation,
  type RegisterInput,
  type RegisterOutput,
} from './linearizable.js';

type Op = Operation<RegisterInput, RegisterOutput>;
const init = { value: 'init', version: 0 };
const model = registerModel(init);

// Builders: [call, ret] in ticks; ret undefined for an unknown outcome.
const read = (call: number, ret: number, value: string, version: number): Op => ({
  call: BigInt(call),
  ret: BigInt(ret),
  input: { f: 'read' },
  output: { f: 'read', value, version },
});
const write = (call: number, ret: number | undefined, value: string, version?: number): Op => ({
  call: BigInt(call),
  ret: ret === undefined ? undefined : BigInt(ret),
  input: { f: 'write', value },
  output: ret === undefined ? undefined : { f: 'write', version: version! },
});
const cas = (call: number, ret: number | undefined, expected: number, value: string, ok?: boolean): Op => ({
  call: BigInt(call),
  ret: ret === undefined ? undefined : BigInt(ret),
  input: { f: 'cas', value, expected },
  output:
    ret === undefined ? undefined : ok ? { f: 'cas', ok, version: expected + 1 } : { f: 'cas', ok: false },
});

const verdict = (history: Op[]) => checkLinearizable(history, model).valid;

describe('checkLinearizable on a versioned register', () => {
  it('an empty history and a sequential one are linearizable', () => {
    expect(verdict([])).toBe(true);
    const result = checkLinearizable(
      [write(0, 1, 'a', 1), read(2, 3, 'a', 1), cas(4, 5, 1, 'b', true), read(6, 7, 'b', 2)],
      model,
    );
    expect(result).toMatchObject({ valid: true, order: [0, 1, 2, 3] });
  });

  it('a read concurrent with a write may see either state', () => {
    expect(verdict([write(0, 10, 'a', 1), read(1, 5, 'init', 0)])).toBe(true);
    expect(verdict([write(0, 10, 'a', 1), read(1, 5, 'a', 1)])).toBe(true);
  });

  it('a read after a completed write must see it (a stale read is not linearizable)', () => {
    expect(verdict([write(0, 1, 'a', 1), read(2, 3, 'init', 0)])).toBe(false);
  });

  it('once a read saw a concurrent write, a later read cannot see the state before it', () => {
    // The new-old inversion: w(a) spans both reads; r1 sees a, r2 (after r1) sees init.
    expect(verdict([write(0, 100, 'a', 1), read(10, 20, 'a', 1), read(30, 40, 'init', 0)])).toBe(false);
    expect(verdict([write(0, 100, 'a', 1), read(10, 20, 'init', 0), read(30, 40, 'a', 1)])).toBe(true);
  });

  it('the order of concurrent writes follows from what reads saw, and needs backtracking to find', () => {
    // a and b overlap; the reads say b went first (version 1), then a (version 2).
    const history = [write(0, 50, 'a', 2), write(1, 50, 'b', 1), read(60, 70, 'a', 2)];
    expect(checkLinearizable(history, model)).toMatchObject({ valid: true, order: [1, 0, 2] });
    // The versions they returned contradict what the read saw.
    expect(verdict([write(0, 50, 'a', 1), write(1, 50, 'b', 2), read(60, 70, 'a', 2)])).toBe(false);
  });

  it('two compare-and-sets on the same version cannot both succeed (a lost update)', () => {
    expect(verdict([cas(0, 10, 0, 'a', true), cas(1, 11, 0, 'b', true)])).toBe(false);
    expect(verdict([cas(0, 10, 0, 'a', true), cas(1, 11, 0, 'b', false)])).toBe(true);
    // A failed compare-and-set needs a version other than its expected one at some point of its span.
    expect(verdict([cas(0, 10, 0, 'a', false)])).toBe(false);
    expect(verdict([write(0, 5, 'x', 1), cas(6, 10, 0, 'a', false)])).toBe(true);
  });

  it('an operation of unknown outcome may have taken effect at any time after its invocation, or never', () => {
    // Never seen: fine (it did not take effect, or it is the last state nobody read).
    expect(verdict([write(0, undefined, 'a'), read(10, 20, 'init', 0)])).toBe(true);
    // Seen long after its invocation: fine (it took effect late).
    expect(verdict([write(0, undefined, 'a'), read(10, 20, 'init', 0), read(1000, 1001, 'a', 1)])).toBe(true);
    // Seen, then not seen: it cannot be undone.
    expect(verdict([write(0, undefined, 'a'), read(10, 20, 'a', 1), read(30, 40, 'init', 0)])).toBe(false);
    // Seen before it was invoked: impossible.
    expect(verdict([read(0, 5, 'a', 1), write(10, undefined, 'a')])).toBe(false);
    // An unknown compare-and-set took effect only if its version matched when it did.
    expect(verdict([cas(0, undefined, 0, 'a'), read(10, 20, 'a', 1)])).toBe(true);
    expect(verdict([write(0, 1, 'x', 1), cas(2, undefined, 0, 'a'), read(10, 20, 'a', 2)])).toBe(false);
  });

  it('a version number no write can have made is not linearizable', () => {
    expect(verdict([write(0, 1, 'a', 2)])).toBe(false);
    expect(verdict([read(0, 1, 'init', 1)])).toBe(false);
  });

  it('reports the longest order it could build and where it got stuck', () => {
    const result = checkLinearizable([write(0, 1, 'a', 1), read(2, 3, 'init', 0), read(4, 5, 'a', 1)], model);
    expect(result).toMatchObject({ valid: false, longest: [0], stuckAt: 1 });
  });

  it('gives up with "unknown" past its step budget', () => {
    const history = Array.from({ length: 12 }, (_, i) => write(0, 100, `v${i}`, i + 1));
    expect(checkLinearizable(history, model, { maxSteps: 10 }).valid).toBe('unknown');
  });

  it('random histories of a simulated register: valid as recorded, invalid with one output falsified', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    let falsifiedRounds = 0;
    for (let round = 0; round < 20; round++) {
      const { history, reads, processOf } = simulate(400, 6, random);
      const result = checkLinearizable(history, registerModel(init, history));
      expect(result.valid, `round ${round}`).toBe(true);
      expect(result.steps, `round ${round}: steps`).toBeLessThan(50_000);
      expect(checkSequential(init, inProgramOrder(history, processOf)).valid, `round ${round} (SC)`).toBe(
        true,
      );
      // A read's output swapped for that of a read much later (a state not reached yet).
      const victim = reads[Math.floor(reads.length / 3)]!;
      const later = reads.find(
        (i) => history[i]!.call > history[victim]!.ret! + 500n && differs(history[i]!, history[victim]!),
      );
      if (later === undefined) continue;
      falsifiedRounds++;
      const falsified = history.map((op, i) =>
        i === victim ? { ...op, output: history[later]!.output } : op,
      );
      expect(
        checkLinearizable(falsified, registerModel(init, falsified)).valid,
        `round ${round}, falsified`,
      ).toBe(false);
    }
    expect(falsifiedRounds).toBeGreaterThan(15);
  });

  it('interchangeable writes of unknown outcome nobody read are counted, not told apart', () => {
    // Twelve lost writes overlapping everything, then a write whose version says six of them landed.
    const lost: Op[] = Array.from({ length: 12 }, (_, i) => write(i, undefined, `lost${i}`));
    const valid = [...lost, write(100, 101, 'a', 7), read(102, 103, 'a', 7), write(104, 105, 'b', 9)];
    expect(checkLinearizable(valid, registerModel(init, valid)).valid).toBe(true);
    // Invalid: the read after 'a' sees the initial state. Proving it means trying every way the lost
    // writes could have landed: every subset of them without symmetry, every count with it.
    const invalid = [...lost, write(100, 101, 'a', 7), read(102, 103, 'init', 0)];
    const plain = checkLinearizable(invalid, model);
    const symmetric = checkLinearizable(invalid, registerModel(init, invalid));
    expect([plain.valid, symmetric.valid]).toEqual([false, false]);
    expect(symmetric.steps).toBeLessThan(plain.steps / 20);
    // A lost write somebody read is told apart: here it must have landed last.
    const seen = [...lost, write(100, 101, 'a', 7), read(102, 103, 'a', 7), read(110, 111, 'lost3', 8)];
    expect(checkLinearizable(seen, registerModel(init, seen)).valid).toBe(true);
    seen.push(read(120, 121, 'a', 7));
    expect(checkLinearizable(seen, registerModel(init, seen)).valid).toBe(false);
  });
});

const differs = (a: Op, b: Op): boolean => JSON.stringify(a.output) !== JSON.stringify(b.output);

/** A simulated history as checkSequential takes it: by process, in program order (= call order). */
function inProgramOrder(history: readonly Op[], processOf: readonly number[]): ProcessOperation[] {
  return history.map((op, i) => ({ process: `p${processOf[i]}`, input: op.input, output: op.output }));
}

/**
 * `n` operations by `processes` simulated clients on a register: each operation takes effect at a
 * random moment inside its own span (so the recorded history is linearizable), some writes lose their
 * reply (unknown outcome; half of them took effect).
 */
function simulate(
  n: number,
  processes: number,
  random: () => number,
): { history: Op[]; reads: number[]; processOf: number[] } {
  interface Pending {
    call: number;
    at: number;
    ret: number;
    input: RegisterInput;
    lost: boolean;
  }
  const pending: Pending[] = [];
  const clock = Array.from({ length: processes }, () => 0);
  for (let i = 0; i < n; i++) {
    const p = i % processes;
    const call = clock[p]! + Math.floor(random() * 20);
    const ret = call + 1 + Math.floor(random() * 60);
    const at = call + random() * (ret - call);
    const r = random();
    const input: RegisterInput =
      r < 0.4
        ? { f: 'read' }
        : r < 0.7
          ? { f: 'write', value: `w${i}` }
          : { f: 'cas', value: `c${i}`, expected: -1 };
    pending.push({ call, at, ret, input, lost: input.f !== 'read' && random() < 0.05 });
    clock[p] = ret + 1;
  }
  // Apply in the order of the moments they took effect.
  let state = { value: 'init', version: 0 };
  const outputs = new Map<Pending, RegisterOutput>();
  for (const op of [...pending].sort((a, b) => a.at - b.at)) {
    if (op.lost && random() < 0.5) continue; // lost before it reached the server
    if (op.input.f === 'read') outputs.set(op, { f: 'read', ...state });
    else if (op.input.f === 'write') {
      state = { value: op.input.value, version: state.version + 1 };
      outputs.set(op, { f: 'write', version: state.version });
    } else {
      // Expect the current version most of the time, a stale one sometimes (a failed CAS).
      const expected = random() < 0.7 ? state.version : Math.max(0, state.version - 1);
      (op.input as { expected: number }).expected = expected;
      if (expected === state.version) {
        state = { value: op.input.value, version: state.version + 1 };
        outputs.set(op, { f: 'cas', ok: true, version: state.version });
      } else outputs.set(op, { f: 'cas', ok: false });
    }
  }
  const history: Op[] = [];
  const reads: number[] = [];
  const processOf: number[] = [];
  for (const [i, op] of pending.entries()) {
    processOf.push(i % processes);
    const output = outputs.get(op);
    if (op.input.f === 'cas' && op.input.expected === -1) (op.input as { expected: number }).expected = 0;
    if (op.lost) {
      history.push({ call: BigInt(op.call), ret: undefined, input: op.input, output: undefined });
      continue;
    }
    if (op.input.f === 'read') reads.push(history.length);
    history.push({ call: BigInt(op.call), ret: BigInt(op.ret), input: op.input, output });
  }
  return { history, reads, processOf };
}

describe('checkSequential (stale reads allowed, forks not)', () => {
  const r = (process: string, value: string, version: number): ProcessOperation => ({
    process,
    input: { f: 'read' },
    output: { f: 'read', value, version },
  });
  const w = (process: string, value: string, version: number | undefined): ProcessOperation => ({
    process,
    input: { f: 'write', value },
    output: version === undefined ? undefined : { f: 'write', version },
  });

  it('a stale read is fine; going back in time within a process is not', () => {
    expect(checkSequential(init, [w('p', 'a', 1), r('q', 'init', 0), r('q', 'a', 1)]).valid).toBe(true);
    const back = checkSequential(init, [w('p', 'a', 1), r('q', 'a', 1), r('q', 'init', 0)]);
    expect(back).toMatchObject({
      valid: false,
      problems: [expect.stringContaining('after this process saw 1')],
    });
    // A process reads its own write (or later).
    expect(checkSequential(init, [w('p', 'a', 1), r('p', 'init', 0)]).valid).toBe(false);
  });

  it('one value per version; no value nobody wrote; no version without a write', () => {
    expect(checkSequential(init, [w('p', 'a', 1), r('q', 'b', 1)]).valid).toBe(false);
    expect(checkSequential(init, [r('q', 'ghost', 1)]).valid).toBe(false);
    expect(checkSequential(init, [w('p', 'a', undefined), r('q', 'a', 1)]).valid).toBe(true);
    expect(checkSequential(init, [w('p', 'a', undefined), r('q', 'a', 2)]).valid).toBe(false);
  });

  it('a write after a read makes a later version', () => {
    expect(
      checkSequential(init, [w('p', 'a', 1), w('p', 'b', 2), r('q', 'b', 2), w('q', 'c', 3)]).valid,
    ).toBe(true);
    expect(
      checkSequential(init, [w('p', 'a', 1), w('p', 'b', 2), r('q', 'b', 2), w('q', 'c', 2)]).valid,
    ).toBe(false);
  });
});
