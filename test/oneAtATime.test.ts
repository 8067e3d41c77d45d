import { describe, expect, it } from 'vitest';
import { OneAtATime } from '../base/oneAtATime.js';

describe('OneAtATime', () => {
  it('never runs the task twice at once; calls made while a run waits to start join it, and each call ends after a run that started after it', async () => {
    const log: string[] = [];
    let running = 0;
    let runs = 0;
    const gates: (() => void)[] = [];
    const serial = new OneAtATime(async () => {
      const n = ++runs;
      running++;
      log.push(`start ${n} (running ${running})`);
      await new Promise<void>((r) => gates.push(r));
      running--;
      log.push(`end ${n}`);
    });
    const first = serial.run();
    await Promise.resolve();
    const second = serial.run();
    const third = serial.run();
    expect(third).toBe(second);
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['start 1 (running 1)']);
    gates.shift()!();
    await first;
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['start 1 (running 1)', 'end 1', 'start 2 (running 1)']);
    const fourth = serial.run();
    expect(fourth).not.toBe(second);
    gates.shift()!();
    await second;
    await new Promise((r) => setTimeout(r, 5));
    gates.shift()!();
    await fourth;
    expect(log).toEqual(['start 1 (running 1)', 'end 1', 'start 2 (running 1)', 'end 2', 'start 3 (running 1)', 'end 3']);
  });

  it('a failed run fails its callers only; the next run still starts', async () => {
    let n = 0;
    const serial = new OneAtATime(async () => {
      if (++n === 1) throw new Error('first fails');
    });
    await expect(serial.run()).rejects.toThrow('first fails');
    await expect(serial.run()).resolves.toBeUndefined();
    expect(n).toBe(2);
  });

  it('settled() waits for every run asked for so far, a failed one included, and starts none', async () => {
    let runs = 0;
    const gates: (() => void)[] = [];
    const serial = new OneAtATime(async () => {
      runs++;
      await new Promise<void>((r) => gates.push(r));
      if (runs === 1) throw new Error('first fails');
    });
    await serial.settled();
    expect(runs).toBe(0);
    const first = serial.run().catch(() => 'failed');
    await Promise.resolve();
    const second = serial.run();
    let settled = false;
    void serial.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 5));
    gates.shift()!();
    expect(await first).toBe('failed');
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    gates.shift()!();
    await second;
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(true);
    expect(runs).toBe(2);
  });
});
