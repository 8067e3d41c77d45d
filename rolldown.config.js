// The CLI and the daemon as a few files (dist/bundle/), made from tsc's dist/ by `npm run build`:
// Node loads ~120 modules of dist/ and commander's and pino's files one by one, ~70 ms of every
// command's start here; the bundle loads in a fraction of that (BENCHMARKS.md, twelfth session).
// better-sqlite3 (a native addon) and typescript (loaded only for a config with types) stay outside.
import { defineConfig } from 'rolldown';

export default defineConfig({
  input: { cli: 'dist/daemon/cli.js', quick: 'dist/daemon/quick.js' },
  platform: 'node',
  external: ['better-sqlite3', 'typescript', /^node:/],
  logLevel: 'warn',
  output: { dir: 'dist/bundle', format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', cleanDir: true },
});
