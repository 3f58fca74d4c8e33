import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: end-to-end files share one Temporal dev server and must not starve each other.
    maxWorkers: 2,
    typecheck: { enabled: false },
    reporters: ['default'],
  },
});
