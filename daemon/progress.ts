/**
 * Build progress on the client's terminal: one live line in a terminal (done/total, what runs, ETA),
 * one line per finished action in a pipe, nothing with --quiet.
 */
export interface ProgressEvent {
  type: 'start' | 'done';
  id: string;
  output: string;
  kind: string;
  state?: 'ran' | 'restored' | 'cutoff' | 'upToDate' | 'failed';
  finished?: number;
  total?: number;
  durationMs?: number;
  etaMs?: number | null;
}

export type ProgressMode = 'tty' | 'lines' | 'quiet';

export function progressMode(opts: { quiet?: boolean; json?: boolean }, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (opts.quiet || opts.json) return 'quiet';
  return stream.isTTY ? 'tty' : 'lines';
}

export class ProgressPrinter {
  private readonly running = new Set<string>();
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly mode: ProgressMode, private readonly out: NodeJS.WriteStream = process.stderr) {}

  onEvent = (raw: unknown): void => {
    const e = raw as ProgressEvent;
    if (this.mode === 'quiet') return;
    if (e.type === 'start') this.running.add(e.output);
    else this.running.delete(e.output);
    if (this.mode === 'lines') {
      if (e.type === 'done' && (e.state === 'ran' || e.state === 'restored' || e.state === 'failed' || e.state === 'cutoff')) {
        const ms = e.state !== 'restored' ? ` ${Math.round(e.durationMs ?? 0)} ms` : '';
        const state = e.state === 'cutoff' ? 'kept (preprocessed input unchanged)' : e.state;
        this.out.write(`[${e.finished}/${e.total}] ${state} ${e.kind} ${e.output}${ms}\n`);
      }
      return;
    }
    const now = Date.now();
    if (e.type === 'done' && now - this.lastDraw < 50 && e.finished !== e.total) return;
    this.lastDraw = now;
    const running = [...this.running].slice(0, 2).join(', ');
    const eta = e.etaMs != null ? `, ETA ${Math.ceil(e.etaMs / 1000)} s` : '';
    const line = `[${e.finished ?? 0}/${e.total ?? '?'}] ${running ? `running ${running}${this.running.size > 2 ? ` +${this.running.size - 2}` : ''}` : ''}${eta}`;
    const width = this.out.columns ? this.out.columns - 1 : 120;
    this.out.write(`\r\x1b[K${line.slice(0, width)}`);
    this.drawn = true;
  };

  finish(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}
