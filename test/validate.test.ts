/** Validation tables (no server needed): paths, data sizes, versions, TTLs, connect strings. */
import { describe, expect, it } from 'vitest';
import {
  connect,
  DataTooLargeError,
  errorFromCode,
  InvalidArgumentError,
  InvalidPathError,
  NoNodeError,
  pathProblem,
  validatePath,
  ZkError,
  Code,
  isRetryable,
  ConnectionLossError,
  SessionExpiredError,
} from '../src/index.js';
import {
  requestOverhead,
  validateData,
  validateRequestSize,
  validateTtl,
  validateVersion,
} from '../src/session/validate.js';

describe('pathProblem', () => {
  const good = [
    '/',
    '/a',
    '/a/b',
    '/a.b',
    '/...',
    '/.a',
    '/a.',
    '/a b',
    '/é',
    '/€',
    '/\u00a0',
    '/\uf900',
    '/zookeeper',
    '/a-_~!@#$%^&*()',
  ];
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['a', /start with/],
    ['/a/', /end with/],
    ['//a', /empty segment/],
    ['/a//b', /empty segment/],
    ['/.', /relative/],
    ['/..', /relative/],
    ['/a/./b', /relative/],
    ['/a/../b', /relative/],
    ['/a\u0000b', /null/],
    ['/a\u0001', /U\+0001/],
    ['/a\u001f', /U\+001F/],
    ['/a\u007f', /U\+007F/],
    ['/a\u009f', /U\+009F/],
    ['/\ud83d\ude00', /U\+D83D/],
    ['/\ue000', /U\+E000/],
    ['/\ufff0', /U\+FFF0/],
    ['/\uffff', /U\+FFFF/],
  ];
  it.each(good)('accepts %j', (path) => expect(pathProblem(path)).toBeUndefined());
  it.each(bad)('rejects %j', (path, rule) => expect(pathProblem(path)).toMatch(rule));

  it('lets a sequential create end with / or . (the server appends the counter)', () => {
    expect(pathProblem('/q/', true)).toBeUndefined();
    expect(pathProblem('/q/.', true)).toBeUndefined();
    expect(pathProblem('/q/', false)).toMatch(/end with/);
  });

  it('rejects non-strings with a typed error naming the argument', () => {
    expect(() => validatePath(42, 'options.path')).toThrow(InvalidPathError);
    try {
      validatePath('/a//b', 'path');
    } catch (e) {
      expect(e).toMatchObject({ argument: 'path', rule: 'must not contain an empty segment (//)', code: -8 });
      expect((e as Error).message).toBe(
        `invalid argument 'path': must not contain an empty segment (//) (got "/a//b")`,
      );
    }
  });
});

describe('data, versions and TTLs', () => {
  it('accepts strings, bytes and nothing; refuses other types', () => {
    expect([...validateData('hé')]).toEqual([104, 195, 169]);
    expect(validateData(undefined).byteLength).toBe(0);
    expect(validateData(new Uint8Array([1]))).toEqual(new Uint8Array([1]));
    expect(() => validateData({})).toThrow(InvalidArgumentError);
    expect(() => validateData(Buffer.alloc(1_048_576))).toThrow(DataTooLargeError);
  });

  it('bounds a request by jute.maxbuffer less its own bytes', () => {
    const overhead = requestOverhead('create', '/b');
    expect(overhead).toBe(49);
    expect(() => validateRequestSize(Buffer.alloc(1_048_526), overhead)).not.toThrow();
    expect(() => validateRequestSize(Buffer.alloc(1_048_527), overhead)).toThrow(/at most 1048526 bytes/);
    expect(requestOverhead('set', '/b')).toBe(22);
    expect(requestOverhead('create', '/b', true)).toBe(57);
  });

  it('checks versions and TTLs', () => {
    expect(validateVersion(undefined)).toBe(-1);
    expect(validateVersion(0)).toBe(0);
    for (const v of [-2, 1.5, 2 ** 31, '1', NaN]) expect(() => validateVersion(v)).toThrow(/version/);
    expect(validateTtl('persistent', undefined)).toBeUndefined();
    expect(() => validateTtl('persistent', 10)).toThrow(/only applies to TTL modes/);
    expect(validateTtl('persistent-ttl', 10)).toBe(10);
    for (const t of [0, -1, 1.5, 2 ** 40, undefined])
      expect(() => validateTtl('persistent-ttl', t)).toThrow(/ttl/);
  });
});

describe('connect()', () => {
  it.each([
    ['', /non-empty/],
    ['host:99999', /bad server address/],
    ['a:1,,b:2', /bad server address/],
    ['127.0.0.1:2181/bad/', /bad chroot/],
    [42 as unknown as string, /non-empty/],
  ])('rejects the connect string %j synchronously', (cs, rule) => {
    expect(() => connect(cs)).toThrow(rule);
  });

  it('rejects bad options by name', () => {
    expect(() => connect('127.0.0.1:2181', { sessionTimeout: -5 })).toThrow(/options.sessionTimeout/);
    expect(() => connect('127.0.0.1:2181', { retry: { maxRetries: -1 } })).toThrow(/retry.maxRetries/);
    expect(() => connect('127.0.0.1:2181', { auth: [{ scheme: '', credentials: 'x' }] })).toThrow(
      /auth\[0\].scheme/,
    );
  });
});

describe('error table', () => {
  it('builds one class per code, with code, path and cause', () => {
    const e = errorFromCode(Code.NoNode, { path: '/x', cause: 'raw' });
    expect(e).toBeInstanceOf(NoNodeError);
    expect(e).toBeInstanceOf(ZkError);
    expect(e).toMatchObject({
      name: 'NoNodeError',
      code: -101,
      path: '/x',
      cause: 'raw',
      message: 'no node: /x',
    });
    const unknown = errorFromCode(-999);
    expect(unknown.constructor).toBe(ZkError);
    expect(unknown.message).toMatch(/-999/);
    expect(isRetryable(new ConnectionLossError())).toBe(true);
    expect(isRetryable(new SessionExpiredError())).toBe(true);
    expect(isRetryable(new NoNodeError())).toBe(false);
  });
});
