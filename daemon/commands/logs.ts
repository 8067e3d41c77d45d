import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { openProjectBase } from '../../osv/project.js';
import { formatLogLine, logPath } from '../logFile.js';
import { wholeNumber } from './build.js';
import { common, projectOptions, type CommonOptions } from './common.js';

/** `osvd logs`: the tree's log, as lines for people (or as its JSON with --json). */
export function logsCommand(program: Command): void {
  common(program.command('logs').description("print the tree's log"))
    .option('-f, --follow', 'keep printing new lines')
    .addOption(new Option('-n, --lines <n>', 'print only the last N lines (with -f: then follow)').argParser(wholeNumber))
    .action(async (opts: CommonOptions & { follow?: boolean; lines?: number }) => {
      const base = await openProjectBase(projectOptions(opts));
      const file = logPath(base.stateDir);
      let offset = 0;
      // The first read keeps only the last N lines (the log is capped at 10 MB: read whole).
      let keep = opts.lines;
      const dump = (): void => {
        let text: string;
        try {
          const st = fs.statSync(file);
          if (st.size < offset) offset = 0;
          const fd = fs.openSync(file, 'r');
          const buf = Buffer.alloc(st.size - offset);
          fs.readSync(fd, buf, 0, buf.length, offset);
          fs.closeSync(fd);
          offset = st.size;
          text = buf.toString('utf8');
        } catch {
          return;
        }
        let lines = text.split('\n').filter(Boolean);
        if (keep !== undefined) lines = keep === 0 ? [] : lines.slice(-keep);
        keep = undefined;
        for (const line of lines) process.stdout.write((opts.json ? line : formatLogLine(line)) + '\n');
      };
      if (!fs.existsSync(file) && !opts.follow) {
        process.stdout.write(`osvd: no log yet at ${file}\n`);
        return;
      }
      dump();
      if (opts.follow) {
        setInterval(dump, 250);
        await new Promise(() => undefined);
      }
    });
}
