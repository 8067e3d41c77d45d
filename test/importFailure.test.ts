import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { appendTo, build, copyExample, osvd, removeCopies, startDaemon, status, stopDaemons, waitFor } from './helpers.js';

/**
 * A makefile edited under the daemon so that make rejects it: the daemon's builds fail with make's
 * words, as a one-shot build does, until it is mended. Before 2026-12-04 the daemon logged the failed
 * import and built the last good import's graph: "build ok, 74 up to date" for a Makefile make rejects.
 */
afterEach(stopDaemons);
afterAll(removeCopies);

describe('a makefile make rejects, edited under the daemon', () => {
  it('status names the failure, builds fail with make\'s error; mended, the next build is up to date', async () => {
    const root = copyExample();
    startDaemon(root);
    expect(build(root).ok).toBe(true);
    const makefile = path.join(root, 'Makefile');
    const good = fs.readFileSync(makefile, 'utf8');
    appendTo(root, 'Makefile', 'include nonexistent.mk\n');
    const line = good.split('\n').length;
    const failure = `Makefile:${line}: nonexistent.mk: No such file or directory`;
    await waitFor('status to name the failed import', () => status(root).daemon.importFailure === failure);
    expect(osvd(root, ['status']).stdout).toContain(`state: the makefiles could not be imported (${failure}); builds fail until they can, osvd build says why\n`);
    const failed = osvd(root, ['build', '--json']);
    expect(failed.code).toBe(2);
    const error = JSON.parse(failed.stdout.trim()).error as { code: string; message: string; file: string };
    expect(error.code).toBe('IMPORT');
    expect(error.file).toBe(makefile);
    expect(error.message).toContain(`\n${failure}\nmake: *** No rule to make target 'nonexistent.mk'.  Stop.`);

    fs.writeFileSync(makefile, good);
    await waitFor('the failure to be gone once the Makefile is mended', () => status(root).daemon.importFailure === null);
    const mended = build(root);
    expect(mended.ok).toBe(true);
    expect(mended.ran).toEqual([]);
  });
});
