#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the prepare script).
import('../dist/daemon/cli.js').then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`osvd: ${err && err.message ? err.message : err}\n`);
  process.exit(2);
});
