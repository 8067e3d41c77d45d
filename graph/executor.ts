import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Action } from './action.js';
import { ToolMissingError } from './errors.js';

export interface ExecResult {
  readonly ok: boolean;
  readonly exitCode: number | null;
  /** stdout and stderr, interleaved as they came, cut at OUTPUT_LIMIT. */
  readonly output: string;
  /** The command that failed, when one did. */
  readonly failedCommand?: string;
  readonly durationMs: number;
}

const OUTPUT_LIMIT = 64 * 1024;
const SHELL = '/bin/sh';

/** Run an action's commands one after the other, each as `/bin/sh -c`, stopping at the first failure. */
export async function runAction(action: Action, root: string): Promise<ExecResult> {
  const started = performance.now();
  let output = '';
  for (const command of action.commands) {
    const result = await runShell(command, path.resolve(root, action.cwd), action.env);
    output += result.output;
    if (output.length > OUTPUT_LIMIT) output = output.slice(0, OUTPUT_LIMIT) + '\n[output cut]\n';
    if (result.exitCode !== 0) {
      return { ok: false, exitCode: result.exitCode, output, failedCommand: command, durationMs: performance.now() - started };
    }
  }
  return { ok: true, exitCode: 0, output, durationMs: performance.now() - started };
}

function runShell(command: string, cwd: string, env: Readonly<Record<string, string>>): Promise<{ exitCode: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SHELL, ['-c', command], { cwd, env: { ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (b: Buffer): void => {
      if (size < OUTPUT_LIMIT) chunks.push(b);
      size += b.length;
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new ToolMissingError(SHELL, { cause: err }));
      else reject(err);
    });
    child.on('close', (code, signal) => {
      let output = Buffer.concat(chunks).toString('utf8');
      if (signal) output += `\n[killed by ${signal}]\n`;
      resolve({ exitCode: code ?? (signal ? 128 : null), output });
    });
  });
}
