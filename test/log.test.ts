import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openLog } from '../daemon/log.js';
import { formatLogLine, LOG_CAP_BYTES, logPath } from '../daemon/logFile.js';

describe('log file', () => {
  it('a line that cannot be written (ENOSPC: the log is /dev/full) is lost without failing whoever logged', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-log-'));
    try {
      fs.symlinkSync('/dev/full', logPath(dir));
      const log = openLog(dir);
      expect(() => {
        log.warn({ answer: 42 }, 'hello');
        log.info('again');
      }).not.toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('goes to the state folder, and past its cap moves to osvd.log.1', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-log-'));
    try {
      fs.writeFileSync(logPath(dir), 'x'.repeat(LOG_CAP_BYTES + 1));
      const log = openLog(dir);
      log.info({ answer: 42 }, 'hello');
      expect(fs.statSync(`${logPath(dir)}.1`).size).toBe(LOG_CAP_BYTES + 1);
      const line = fs.readFileSync(logPath(dir), 'utf8').trim();
      expect(JSON.parse(line)).toMatchObject({ msg: 'hello', answer: 42 });
      expect(formatLogLine(line)).toMatch(/^\d{4}-\d\d-\d\dT.* info hello {2}answer=42$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
