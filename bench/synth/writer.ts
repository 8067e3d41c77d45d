/**
 * Writes the files of a synthetic tree: it makes each folder once and counts the files it wrote.
 */
import fs from 'node:fs';
import path from 'node:path';

export class Writer {
  count = 0;
  private readonly dirs = new Set<string>();
  constructor(private readonly root: string) {}
  write(rel: string, text: string, mode = 0o644): void {
    const abs = path.join(this.root, rel);
    const d = path.dirname(abs);
    if (!this.dirs.has(d)) {
      fs.mkdirSync(d, { recursive: true });
      this.dirs.add(d);
    }
    fs.writeFileSync(abs, text, { mode });
    this.count++;
  }
}
