/**
 * Parsers for what GNU make prints when asked `make -p -n -B --trace V=1`: the trace of targets with
 * the recipe lines make would run, followed by make's database (rules, prerequisites, variables).
 * Pure functions of text, so they can be tested and fuzzed on their own.
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
}

const DB_START = /^# Make data base, printed on /;
const TRACE_LINE = /^(?:\S.*?):\d+: (?:update )?target '(.*)' (?:does not exist|due to: .*|is \.PHONY.*|.*)$/;

/** Split make's stdout into the dry-run part and the database part. */
export function splitDryRun(stdout: string): { trace: string; database: string } {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => DB_START.test(l));
  if (at < 0) return { trace: stdout, database: '' };
  // make prints "# GNU Make 4.x", its copyright and a blank line just before the marker.
  let start = at;
  while (start > 0 && (lines[start - 1]!.startsWith('#') || lines[start - 1] === '')) start--;
  return { trace: lines.slice(0, start).join('\n'), database: lines.slice(at).join('\n') };
}

export function parseTrace(trace: string): TracedTarget[] {
  const targets: { target: string; recipe: string[] }[] = [];
  let current: { target: string; recipe: string[] } | undefined;
  let continued = false;
  for (const line of trace.split('\n')) {
    if (continued && current) {
      current.recipe[current.recipe.length - 1] += `\n${line}`;
      continued = endsWithContinuation(line);
      continue;
    }
    const m = TRACE_LINE.exec(line);
    if (m) {
      current = { target: m[1]!, recipe: [] };
      targets.push(current);
      continued = false;
      continue;
    }
    // Lines before the first trace line are make's own messages ($(info ...), "Building into ...").
    if (!current || line === '') continue;
    current.recipe.push(line);
    continued = endsWithContinuation(line);
  }
  return targets;
}

function endsWithContinuation(line: string): boolean {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

/** Parse the "# Files" section and the variables osvd needs from make's database. */
export function parseDatabase(database: string): MakeDatabase {
  const rules = new Map<string, RuleEntry>();
  let makefiles: string[] = [];
  let defaultGoal: string | undefined;
  const lines = database.split('\n');
  let inFiles = false;
  let notATarget = false;
  let current: { target: string; prereqs: string[]; orderOnly: string[]; phony: boolean } | undefined;
  for (const line of lines) {
    if (!inFiles) {
      if (line.startsWith('MAKEFILE_LIST :=') || line.startsWith('MAKEFILE_LIST =')) {
        makefiles = line.slice(line.indexOf('=') + 1).trim().split(/\s+/).filter(Boolean);
      } else if (line.startsWith('.DEFAULT_GOAL :=') || line.startsWith('.DEFAULT_GOAL =')) {
        defaultGoal = line.slice(line.indexOf('=') + 1).trim() || undefined;
      } else if (line === '# Files') {
        inFiles = true;
      }
      continue;
    }
    if (line.startsWith('# files hash-table stats') || line === '# VPATH Search Paths') {
      inFiles = false;
      continue;
    }
    if (line === '# Not a target:') {
      notATarget = true;
      continue;
    }
    if (line === '') {
      current = undefined;
      continue;
    }
    if (line.startsWith('#')) {
      if (current && line.startsWith('#  Phony target')) current.phony = true;
      continue;
    }
    if (line.startsWith('\t')) continue;
    const rule = parseRuleLine(line);
    if (!rule) continue;
    if (notATarget) {
      notATarget = false;
      current = undefined;
      continue;
    }
    const existing = rules.get(rule.target);
    current = existing ? (existing as typeof current)! : { target: rule.target, prereqs: [], orderOnly: [], phony: false };
    current.prereqs.push(...rule.prereqs);
    current.orderOnly.push(...rule.orderOnly);
    rules.set(rule.target, current);
  }
  return { rules, makefiles, defaultGoal };
}

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
