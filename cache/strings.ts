/**
 * One copy of each equal string, for what the daemon holds for its lifetime: a content hash decoded
 * from the database is a new string each time (the files table, each last run's deps and outputs), 80
 * bytes each, tens of thousands of times over at OSv scale. The file-hash memo and the last runs draw
 * on one pool, so a header's hash is held once. Clearing the pool keeps the strings already shared.
 */
export class StringPool {
  private readonly strings = new Map<string, string>();

  one(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    this.strings.set(s, s);
    return s;
  }

  get size(): number {
    return this.strings.size;
  }

  clear(): void {
    this.strings.clear();
  }
}
