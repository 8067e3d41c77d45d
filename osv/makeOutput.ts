/**
 * Parsers for what GNU make prints when asked `make -p -n -B --trace V=1`: the trace of targets with
 * the recipe lines make would run, followed by make's database (rules, prerequisites, variables).
 * Line parsers, fed as make's output arrives (DryRunParser) or from a whole text (parseDryRun,
 * parseTrace, parseDatabase: the same parsers), so they can be tested and fuzzed on their own.
 */

export interface TracedTarget {
  readonly target: string;
  /** Recipe lines as make would hand them to the shell (continuation lines joined back). */
  readonly recipe: readonly string[];
}

export interface RuleEntry {
  readonly target: string;
  readonly prereqs: readonly string[];
  readonly orderOnly: readonly string[];
  readonly phony: boolean;
}

export interface MakeDatabase {
  readonly rules: ReadonlyMap<string, RuleEntry>;
  readonly makefiles: readonly string[];
  readonly defaultGoal: string | undefined;
  /** Recursively expanded variables (`name = value`, unexpanded), from the global variables section. */
  readonly recursiveVars: ReadonlyMap<string, string>;
  /**
   * Per target: its target-specific variable lines and unexpanded recipe lines, as make printed them,
   * each ending in a newline; only the lines that refer to a variable (`$(` or `${`).
   */
  readonly ruleText: ReadonlyMap<string, string>;
}

const DB_START = /^# Make data base, printed on /;
const TRACE_LINE = /^(?:\S.*?):\d+: (?:update )?target '(.*)' (?:does not exist|due to: .*|is \.PHONY.*|.*)$/;
/**
 * A message of make itself on stdout, never a recipe line: `make: 'x' is up to date.`, `make: Nothing to
 * be done for 'x'.`, `make[1]: Entering directory '...'` and `Leaving directory`. make prints them after
 * the recipe of the target it traced last (a goal already made as another goal's prerequisite is "up to
 * date" even under -B), so without this they read as that recipe's last commands. No shell command
 * starts with a word ending in a colon that names make, so nothing real is lost.
 */
export const MAKE_MESSAGE = /^(?:\S*\/)?g?make(?:\[\d+\])?: /;

/** Something that takes make's output one line at a time (without its newline) and gives a result at the end. */
export interface LineParser<T> {
  line(line: string): void;
  end(): T;
}

/**
 * Cuts bytes into lines at `\n` and decodes each line by itself: a line split across chunks is joined
 * first, and no string handed on is a slice of a whole chunk (which would keep the chunk alive as long
 * as the line is kept). `\n` never occurs inside a UTF-8 sequence, so this decodes as the whole text would.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (this.pending.length > 0) {
        this.pending.push(chunk.subarray(start, nl));
        const line = Buffer.concat(this.pending).toString('utf8');
        this.pending = [];
        this.onLine(line);
      } else {
        this.onLine(chunk.toString('utf8', start, nl));
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
  }

  /** The text after the last newline is a line too (empty when the output ended with a newline), as with split('\n'). */
  end(): void {
    const line = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    this.onLine(line);
  }
}

/**
 * Sends each line of make's stdout to the trace or to the database. The database starts at make's
 * "# Make data base, printed on" line; the `#` and blank lines just before it ("# GNU Make 4.x", its
 * copyright, a blank line) belong to neither, so such lines are held until a line shows which they are.
 */
export class DryRunSplitter {
  private inDatabase = false;
  private held: string[] = [];
  constructor(
    private readonly trace: { line(line: string): void },
    private readonly database: { line(line: string): void },
  ) {}

  line(line: string): void {
    if (this.inDatabase) {
      this.database.line(line);
    } else if (DB_START.test(line)) {
      this.held = [];
      this.inDatabase = true;
      this.database.line(line);
    } else if (line === '' || line.startsWith('#')) {
      this.held.push(line);
    } else {
      this.flushHeld();
      this.trace.line(line);
    }
  }

  /** Without a database, the held lines were the trace's. */
  end(): void {
    if (!this.inDatabase) this.flushHeld();
  }

  private flushHeld(): void {
    for (const h of this.held) this.trace.line(h);
    this.held = [];
  }
}

export interface DryRunResult {
  readonly traced: TracedTarget[];
  readonly db: MakeDatabase;
}

/**
 * Parses `make -p -n -B --trace` output as it arrives: push stdout's chunks, then end(). Holds only what
 * the trace and database parsers keep, never the whole output.
 */
export class DryRunParser {
  private readonly trace: TraceParser;
  private readonly database = new DatabaseParser();
  private readonly splitter: DryRunSplitter;
  private readonly lines = new LineSplitter((line) => this.splitter.line(line));

  /** `onRecipeLine`: each recipe line as it is read (the first line of a continued command only). */
  constructor(onRecipeLine?: (line: string) => void) {
    this.trace = new TraceParser(onRecipeLine);
    this.splitter = new DryRunSplitter(this.trace, this.database);
  }

  push(chunk: Buffer): void {
    this.lines.push(chunk);
  }

  end(): DryRunResult {
    this.lines.end();
    this.splitter.end();
    return { traced: this.trace.end(), db: this.database.end() };
  }
}

/** The whole of make's stdout as text, through the same parsers as the streamed output. */
export function parseDryRun(stdout: string): DryRunResult {
  const trace = new TraceParser();
  const database = new DatabaseParser();
  const splitter = new DryRunSplitter(trace, database);
  for (const line of stdout.split('\n')) splitter.line(line);
  splitter.end();
  return { traced: trace.end(), db: database.end() };
}

/** Split make's stdout into the dry-run part and the database part. */
export function splitDryRun(stdout: string): { trace: string; database: string } {
  const trace: string[] = [];
  const database: string[] = [];
  const splitter = new DryRunSplitter({ line: (l) => trace.push(l) }, { line: (l) => database.push(l) });
  for (const line of stdout.split('\n')) splitter.line(line);
  splitter.end();
  return { trace: trace.join('\n'), database: database.join('\n') };
}

export function parseTrace(trace: string): TracedTarget[] {
  return feed(new TraceParser(), trace);
}

/** Parse the "# Files" section and the variables osvd needs from make's database. */
export function parseDatabase(database: string): MakeDatabase {
  return feed(new DatabaseParser(), database);
}

function feed<T>(parser: LineParser<T>, text: string): T {
  for (const line of text.split('\n')) parser.line(line);
  return parser.end();
}

/** The targets make traced, with the recipe lines it would run (lines before the first target are make's own messages). */
export class TraceParser implements LineParser<TracedTarget[]> {
  private readonly targets: { target: string; recipe: string[] }[] = [];
  private current: { target: string; recipe: string[] } | undefined;
  private continued = false;

  constructor(private readonly onRecipeLine?: (line: string) => void) {}

  line(line: string): void {
    const current = this.current;
    if (this.continued && current) {
      current.recipe[current.recipe.length - 1] += `\n${line}`;
      this.continued = endsWithContinuation(line);
      return;
    }
    const m = TRACE_LINE.exec(line);
    if (m) {
      this.current = { target: m[1]!, recipe: [] };
      this.targets.push(this.current);
      this.continued = false;
      return;
    }
    // Lines before the first trace line are make's own messages ($(info ...), "Building into ...").
    if (!current || line === '' || MAKE_MESSAGE.test(line)) return;
    current.recipe.push(line);
    this.onRecipeLine?.(line);
    this.continued = endsWithContinuation(line);
  }

  end(): TracedTarget[] {
    return this.targets;
  }
}

function endsWithContinuation(line: string): boolean {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

/** The "# Files" section of make's database, with the global recursive variables, the makefiles and the default goal. */
export class DatabaseParser implements LineParser<MakeDatabase> {
  private readonly rules = new Map<string, RuleEntry>();
  private readonly recursiveVars = new Map<string, string>();
  private readonly ruleText = new Map<string, string>();
  private makefiles: string[] = [];
  private defaultGoal: string | undefined;
  private inFiles = false;
  private notATarget = false;
  private current: { target: string; prereqs: string[]; orderOnly: string[]; phony: boolean } | undefined;

  /**
   * ruleText is only read for variable references (lateExpansion.ts), which never span lines:
   * a line without `$(` or `${` cannot matter, and is not kept.
   */
  private addText(target: string, text: string): void {
    if (!text.includes('$(') && !text.includes('${')) return;
    this.ruleText.set(target, (this.ruleText.get(target) ?? '') + text + '\n');
  }

  line(line: string): void {
    if (!this.inFiles) {
      if (line.startsWith('MAKEFILE_LIST :=') || line.startsWith('MAKEFILE_LIST =')) {
        this.makefiles = line.slice(line.indexOf('=') + 1).trim().split(/\s+/).filter(Boolean);
      } else if (line.startsWith('.DEFAULT_GOAL :=') || line.startsWith('.DEFAULT_GOAL =')) {
        this.defaultGoal = line.slice(line.indexOf('=') + 1).trim() || undefined;
      } else if (line === '# Files') {
        this.inFiles = true;
      } else {
        const v = RECURSIVE_VAR.exec(line);
        if (v) this.recursiveVars.set(v[1]!, v[2]!);
      }
      return;
    }
    if (line.startsWith('# files hash-table stats') || line === '# VPATH Search Paths') {
      this.inFiles = false;
      return;
    }
    if (line === '# Not a target:') {
      this.notATarget = true;
      return;
    }
    if (line === '') {
      this.current = undefined;
      return;
    }
    if (line.startsWith('#')) {
      if (this.current && line.startsWith('#  Phony target')) this.current.phony = true;
      return;
    }
    if (line.startsWith('\t')) {
      if (this.current) this.addText(this.current.target, line);
      return;
    }
    const rule = parseRuleLine(line);
    if (!rule) {
      const tv = TARGET_VAR.exec(line);
      if (tv && !this.notATarget) this.addText(tv[1]!, tv[2]!);
      return;
    }
    if (this.notATarget) {
      this.notATarget = false;
      this.current = undefined;
      return;
    }
    const existing = this.rules.get(rule.target) as typeof this.current;
    const current = existing ?? { target: rule.target, prereqs: [], orderOnly: [], phony: false };
    for (const p of rule.prereqs) current.prereqs.push(p);
    for (const p of rule.orderOnly) current.orderOnly.push(p);
    this.rules.set(rule.target, current);
    this.current = current;
  }

  end(): MakeDatabase {
    return { rules: this.rules, makefiles: this.makefiles, defaultGoal: this.defaultGoal, recursiveVars: this.recursiveVars, ruleText: this.ruleText };
  }
}

const RECURSIVE_VAR = /^([A-Za-z_][\w.+-]*) = (.*)$/;
const TARGET_VAR = /^([^\s:#][^:]*?):\s+([^\s|]+\s*(?::=|\+=|\?=|=).*)$/;

function parseRuleLine(line: string): { target: string; prereqs: string[]; orderOnly: string[] } | undefined {
  // "target: a b | c" or "target:: a b"; a target-specific variable line looks like "target: VAR = x".
  const m = /^(.+?)::?(?:\s+(.*))?$/.exec(line);
  if (!m) return undefined;
  const rest = m[2] ?? '';
  if (/^[^\s|]+\s*(?::=|\+=|\?=|=)/.test(rest)) return undefined;
  const [normal, order] = rest.split(' | ');
  return {
    target: m[1]!.trim(),
    prereqs: (normal ?? '').split(/\s+/).filter(Boolean),
    orderOnly: (order ?? '').split(/\s+/).filter(Boolean),
  };
}

/** Parse `env -0` output into a map. */
export function parseEnv0(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}
