/** Bounded exponential backoff for connection loss. */
import { InvalidArgumentError } from '../errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt; 0 disables retrying. */
  readonly maxRetries: number;
  /** Delay before the first retry, in ms; doubled on each further retry. */
  readonly baseDelay: number;
  /** Upper bound for one delay, in ms. */
  readonly maxDelay: number;
  /**
   * Fraction of each delay drawn at random (0..1), so that many clients cut off together do not retry
   * in lock-step. 0 makes delays exact, as marble tests want.
   */
  readonly jitter: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 10,
  baseDelay: 100,
  maxDelay: 5_000,
  jitter: 0.2,
};

/** The policy `options` ask for, over the defaults; `argument` names them in errors. */
export function retryPolicy(options: Partial<RetryPolicy> = {}, argument = 'retry'): RetryPolicy {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(argument, 'must be an object', options);
  }
  const policy = { ...defaultRetryPolicy, ...options };
  const checks: [keyof RetryPolicy, boolean][] = [
    ['maxRetries', Number.isInteger(policy.maxRetries) && policy.maxRetries >= 0],
    ['baseDelay', Number.isFinite(policy.baseDelay) && policy.baseDelay >= 0],
    ['maxDelay', Number.isFinite(policy.maxDelay) && policy.maxDelay >= policy.baseDelay],
    // A type check first: comparisons would take '0.5' or true as numbers.
    ['jitter', typeof policy.jitter === 'number' && policy.jitter >= 0 && policy.jitter <= 1],
  ];
  for (const [name, ok] of checks) {
    if (!ok) throw new InvalidArgumentError(`${argument}.${name}`, 'is out of range', policy[name]);
  }
  return policy;
}

/** The delay before retry number `attempt` (0-based). */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exact = Math.min(policy.maxDelay, policy.baseDelay * 2 ** attempt);
  return Math.round(exact * (1 - policy.jitter * random()));
}
