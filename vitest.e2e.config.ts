import {defineConfig} from 'vitest/config'

// End-to-end tests drive the built CLI against real containers: one file at a time, generous timeouts.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    fileParallelism: false,
    pool: 'forks',
  },
})
