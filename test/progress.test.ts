import { afterEach, describe, expect, it, vi } from 'vitest';
import { stripAnsi } from '../base/ansi.js';
import type { BuildEvent } from '../graph/builder.js';
import { withColour } from '../osv/recipes.js';
import { elideMiddle, ProgressPrinter, supportsColour, terminalChoice, type ProgressEvent } from '../daemon/progress.js';
import { RunningBuild } from '../daemon/runningBuild.js';

/** The progress line and its ETA, the colour flag: the parts of build output that need no build. */

/** A stream that records what is written, shaped as a terminal (`columns`) or a pipe. */
function stream(tty: boolean, columns?: number): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY: tty, columns, write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

const start = (id: string, finished: number, total: number, etaMs: number | null = null): ProgressEvent => ({
  type: 'start', id, output: id, kind: 'compile', finished, total, etaMs, commands: [`g++ -c -o ${id} x.cc`],
});
const done = (id: string, finished: number, total: number, extra: Partial<ProgressEvent> = {}): ProgressEvent => ({
  type: 'done', id, output: id, kind: 'compile', state: 'ran', finished, total, durationMs: 1200, etaMs: null, ...extra,
});

describe('the progress printer', () => {
  afterEach(() => vi.useRealTimers());

  it('on a smart terminal rewrites one status line, keeps it above what a command printed, and cuts it to the width', () => {
    vi.useFakeTimers({ now: 0 });
    const out = stream(true, 30);
    const p = new ProgressPrinter({ mode: 'tty', colour: false, verbose: false }, out);
    const events = [
      start('a.o', 0, 3, 5000),
      done('a.o', 1, 3, { printed: 'a.cc:1: warning: \x1b[01;35munused\x1b[m\n' }),
      start('build/release.x64/very/long/name.o', 1, 3),
      done('build/release.x64/very/long/name.o', 2, 3, { state: 'restored' }),
    ];
    for (const e of events) {
      vi.advanceTimersByTime(100);
      p.onEvent(e);
    }
    // Within 50 ms of the last drawing, a status is drawn only when output follows it or it is the last.
    p.onEvent(start('c.o', 2, 3));
    p.onEvent(done('c.o', 3, 3));
    p.finish();
    expect(out.text).toBe(
      '\r[0/3 ETA 5 s] compile a.o\x1b[K' +
        '\r[1/3] compile a.o\x1b[K\n' +
        'a.cc:1: warning: unused\n' +
        '\r[1/3] compile...y/long/name.o\x1b[K' +
        '\r[2/3] restore...y/long/name.o\x1b[K' +
        '\r[3/3] compile c.o\x1b[K\n',
    );
  });

  it('on a smart terminal, an action found up to date moves the count on under the last description', () => {
    vi.useFakeTimers({ now: 0 });
    const out = stream(true, 80);
    const p = new ProgressPrinter({ mode: 'tty', colour: false, verbose: false }, out);
    p.onEvent(done('up.o', 1, 4, { state: 'upToDate' }));
    vi.advanceTimersByTime(100);
    p.onEvent(start('a.o', 1, 4));
    vi.advanceTimersByTime(100);
    p.onEvent(done('up2.o', 2, 4, { state: 'upToDate' }));
    p.onEvent(done('a.o', 3, 4));
    p.onEvent(done('up3.o', 4, 4, { state: 'upToDate' }));
    p.finish();
    expect(out.text).toBe('\r[1/4] compile a.o\x1b[K\r[2/4] compile a.o\x1b[K\r[4/4] compile a.o\x1b[K\n');
  });

  it('in a pipe prints a plain line per finished action; a failure names the output and its command before its output', () => {
    const out = stream(false);
    const p = new ProgressPrinter(terminalChoice({}, out, { TERM: 'xterm' }), out);
    p.onEvent(start('a.o', 0, 2));
    p.onEvent(done('a.o', 1, 2, { state: 'failed', exitCode: 1, command: 'g++ -c -o a.o a.cc', printed: 'a.cc:1:1: error: expected \x1b[01m;\x1b[m\n' }));
    p.onEvent(done('b.o', 2, 2, { state: 'restored' }));
    p.finish();
    expect(out.text).toBe(
      '[1/2] failed compile a.o 1200 ms\nFAILED: a.o (exit 1)\ng++ -c -o a.o a.cc\na.cc:1:1: error: expected ;\n[2/2] restored compile b.o\n',
    );
  });

  it('-v prints each command as it starts; --quiet prints only what commands printed; --json nothing', () => {
    const verbose = stream(true, 80);
    const v = new ProgressPrinter(terminalChoice({ verbose: true }, verbose, { TERM: 'xterm' }), verbose);
    v.onEvent(start('a.o', 0, 1));
    v.onEvent(done('a.o', 1, 1));
    expect(verbose.text).toBe('g++ -c -o a.o x.cc\n[1/1] ran compile a.o 1200 ms\n');

    const quiet = stream(false);
    const q = new ProgressPrinter(terminalChoice({ quiet: true }, quiet, {}), quiet);
    q.onEvent(start('a.o', 0, 2));
    q.onEvent(done('a.o', 1, 2, { printed: 'w\n' }));
    q.onEvent(done('b.o', 2, 2));
    expect(quiet.text).toBe('w\n');

    const json = stream(true, 80);
    const j = new ProgressPrinter(terminalChoice({ json: true }, json, { TERM: 'xterm' }), json);
    j.onEvent(done('a.o', 1, 1, { printed: 'w\n' }));
    j.finish();
    expect(json.text).toBe('');
  });

  it('colours where the terminal shows them: a smart terminal, not NO_COLOR, or CLICOLOR_FORCE anywhere', () => {
    expect(supportsColour(stream(true), { TERM: 'xterm-256color' })).toBe(true);
    expect(supportsColour(stream(true), { TERM: 'dumb' })).toBe(false);
    expect(supportsColour(stream(true), { TERM: 'xterm', NO_COLOR: '1' })).toBe(false);
    expect(supportsColour(stream(false), { TERM: 'xterm' })).toBe(false);
    expect(supportsColour(stream(false), { CLICOLOR_FORCE: '1' })).toBe(true);
    expect(terminalChoice({}, stream(true), { TERM: 'dumb' }).mode).toBe('lines');
    expect(elideMiddle('abcdefghij', 7)).toBe('ab...ij');
    expect(stripAnsi('\x1b[01;35m\x1b[Kwarning:\x1b[m\x1b[K x')).toBe('warning: x');
  });
});

describe('the ETA', () => {
  afterEach(() => vi.useRealTimers());

  const ev = (type: 'start' | 'done', id: string, finished: number, total: number, state?: 'ran' | 'upToDate' | 'restored'): BuildEvent =>
    type === 'start'
      ? { type, id, output: id, kind: 'compile', running: 1, finished, total, commands: [] }
      : { type, id, output: id, kind: 'compile', state: state ?? 'ran', finished, total, durationMs: 1000 };

  it('comes from the recorded durations of what is left, over the jobs; the never-timed count as the average', () => {
    vi.useFakeTimers({ now: 0 });
    const recorded: Record<string, number> = { a: 4000, b: 2000, c: 6000 };
    const t = new RunningBuild(['a', 'b', 'c', 'd'], true, 2, (id) => recorded[id]);
    // 4 + 2 + 6 s recorded, d never timed: the average, 4 s; 16 s of work on 2 jobs.
    expect(t.etaMs()).toBe(8000);
    t.track(ev('start', 'a', 0, 4));
    vi.setSystemTime(1000);
    // a has 3 s to go by its record; b, c and d 12 s.
    expect(t.etaMs()).toBe(7500);
    t.track(ev('done', 'a', 1, 4));
    expect(t.etaMs()).toBe(6000);
    for (const id of ['b', 'c', 'd']) t.track(ev('done', id, ['b', 'c', 'd'].indexOf(id) + 2, 4, 'upToDate'));
    expect(t.etaMs()).toBe(0);
    expect(t.progress()).toMatchObject({ finished: 4, total: 4, ran: 1 });
  });

  it('in a one-shot build, scales what is left by the share of decided actions that had to run', () => {
    vi.useFakeTimers({ now: 0 });
    const t = new RunningBuild(['a', 'b', 'c', 'd', 'e'], false, 1, () => 1000);
    expect(t.etaMs()).toBeNull();
    t.track(ev('done', 'a', 1, 5, 'upToDate'));
    expect(t.etaMs()).toBe(0);
    t.track(ev('start', 'b', 1, 5));
    t.track(ev('done', 'b', 2, 5));
    // One of two decided ran: half of the 3 s left.
    expect(t.etaMs()).toBe(1500);
  });

  it('is unknown with nothing recorded until something has run in this build', () => {
    vi.useFakeTimers({ now: 0 });
    const t = new RunningBuild(['a', 'b', 'c'], true, 1, () => undefined);
    expect(t.etaMs()).toBeNull();
    t.track(ev('start', 'a', 0, 3));
    t.track(ev('done', 'a', 1, 3));
    expect(t.etaMs()).toBe(2000);
  });
});

describe('the colour flag', () => {
  it('goes after the compiler of a compile, never into other actions', () => {
    expect(withColour('compile', ['mkdir -p build/x', 'g++ -O2 -c -o a.o a.cc', 'CCACHE_DIR=/c x86_64-linux-gnu-gcc-12 -c a.c'])).toEqual([
      'mkdir -p build/x',
      'g++ -fdiagnostics-color=always -O2 -c -o a.o a.cc',
      'CCACHE_DIR=/c x86_64-linux-gnu-gcc-12 -fdiagnostics-color=always -c a.c',
    ]);
    expect(withColour('link', ['g++ -o loader.elf a.o'])).toEqual(['g++ -o loader.elf a.o']);
    expect(withColour('compile', ['echo g++ -c'])).toEqual(['echo g++ -c']);
  });
});
