// The tree osvd builds when run from this repository: the embedded example, examples/mini-osv.
// In an OSv checkout, put a file like this at the top of the tree (without `root`).
import { defineConfig } from 'osvd';

export default defineConfig({
  root: 'examples/mini-osv',
  knobs: {
    mode: 'release',
    arch: 'x64',
    conf_drivers_profile: 'all',
    conf_hide_symbols: 0,
  },
});
