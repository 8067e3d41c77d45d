#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` / `npm install` (the prepare script).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/daemon/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('osvd: not built yet: run `npm ci` (or `npm run build`) in the osvd folder first\n');
  process.exit(2);
}
import(cli.href)
  .then((m) => m.main(process.argv))
  .catch((err) => {
    process.stderr.write(`osvd: ${err && err.stack ? err.stack : err}\n`);
    process.exit(70);
  });
