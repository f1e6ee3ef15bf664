/**
 * Results of the fault matrix (issue 7): each row's test records what it checked and the figure it
 * measured in `test/faults/results/row-<n>.json`; `npm run faults:md` turns the last results into
 * FAULTS.md. The files are per machine (ignored by git): FAULTS.md is what is committed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ZK_IMAGE } from '../support/zookeeper.js';

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

export interface FaultRecord {
  /** The row of the matrix in issue 7 (1..13). */
  readonly row: number;
  /** Short name of the scenario. */
  readonly scenario: string;
  /** What the run checked, in a sentence or two. */
  readonly checked: string;
  /** The measured figure. */
  readonly figure: string;
  /** The ZooKeeper server's own version string (`srvr`), when the test asked for it. */
  readonly server?: string;
  /** Known limitations left open, each with its reason and plan. */
  readonly known?: readonly string[];
}

/** What a result file holds: the record, and when and where it was measured. */
export interface FaultResult extends FaultRecord {
  readonly ranAt: string;
  readonly node: string;
  readonly platform: string;
  readonly image: string;
}

/** Writes `results/row-<row>.json` (replacing the last run's) and returns its path. */
export function recordFault(record: FaultRecord): string {
  if (!Number.isInteger(record.row) || record.row < 1) throw new Error(`bad fault row ${record.row}`);
  const result: FaultResult = {
    ...record,
    ranAt: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}, ${os.cpus().length} CPUs`,
    image: process.env['RXZK_ZK_IMAGE'] ?? DEFAULT_ZK_IMAGE,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}row-${record.row}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
