#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ and bundled into dist/bundle/ by `npm ci` / `npm install`
// (the prepare script) or `npm run build`. OSVD_UNBUNDLED=1 runs tsc's dist/ as it stands (with `tsc -w`).
import { existsSync } from 'node:fs';

const dist = new URL(process.env.OSVD_UNBUNDLED === '1' ? '../dist/daemon/' : '../dist/bundle/', import.meta.url);
if (!existsSync(new URL('cli.js', dist))) {
  process.stderr.write('osvd: not built yet: run `npm ci` (or `npm run build`) in the osvd folder first\n');
  process.exit(2);
}
try {
  // `osvd status`, `build`, `why`, `set` and `stop` with a daemon running take a short road that loads almost nothing.
  const quick = ['status', 'build', 'why', 'set', 'stop'].includes(process.argv[2]) && (await import(new URL('quick.js', dist).href)).quick;
  if (!(quick && (await quick(process.argv)))) {
    await (await import(new URL('cli.js', dist).href)).main(process.argv);
  }
} catch (err) {
  process.stderr.write(`osvd: ${err && err.stack ? err.stack : err}\n`);
  process.exit(70);
}
