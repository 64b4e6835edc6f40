import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real tools (dcmtk, Orthanc) and big generated media make a few files slow; two cores here.
    maxWorkers: 2,
  },
});
