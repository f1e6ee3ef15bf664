import { defineConfig } from 'vitest/config';

// Real-ZooKeeper suites start their own servers on free loopback ports, so files may run in parallel;
// two workers match the 2-core machines CI runs on.
export default defineConfig({
  test: {
    env: {
      TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1',
      TESTCONTAINERS_RYUK_DISABLED: 'true',
    },
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    include: ['test/**/*.test.ts', 'marbles/**/*.test.ts', 'src/**/*.test.ts'],
  },
});
