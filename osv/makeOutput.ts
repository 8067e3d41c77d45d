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
  /** Recursively expanded variables (`name = value`, unexpanded), from the global variables section. */
  readonly recursiveVars: ReadonlyMap<string, string>;
  /** Per target: its target-specific variable lines and unexpanded recipe lines, as make printed them. */
  readonly ruleText: ReadonlyMap<string, string>;
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
  const recursiveVars = new Map<string, string>();
  const ruleText = new Map<string, string>();
  const addText = (target: string, text: string): void => {
    ruleText.set(target, (ruleText.get(target) ?? '') + text + '\n');
  };
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
      } else {
        const v = RECURSIVE_VAR.exec(line);
        if (v) recursiveVars.set(v[1]!, v[2]!);
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
    if (line.startsWith('\t')) {
      if (current) addText(current.target, line);
      continue;
    }
    const rule = parseRuleLine(line);
    if (!rule) {
      const tv = TARGET_VAR.exec(line);
      if (tv && !notATarget) addText(tv[1]!, tv[2]!);
      continue;
    }
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
  return { rules, makefiles, defaultGoal, recursiveVars, ruleText };
}

const RECURSIVE_VAR = /^([A-Za-z_][\w.+-]*) = (.*)$/;
const TARGET_VAR = /^([^\s:#][^:]*?):\s+([^\s|]+\s*(?::=|\+=|\?=|=).*)$/;

/** Variables that name something in the build folder: `out` itself and those whose value refers to it. */
export function buildPathVariables(db: MakeDatabase): Set<string> {
  return closure(db, new Set(['out']));
}

/**
 * Variables whose value depends on files in the build folder at the moment make expands them, such as
 * OSv's `kernel_size = $(shell stat --printf %s $(out)/loader-stripped.elf)`: a dry run can only print
 * what they were when it ran. Found as `$(shell ...)` naming the build folder, then every recursive
 * variable that refers to one of those.
 */
export function lateVariables(db: MakeDatabase, inBuild: ReadonlySet<string>): Set<string> {
  const late = new Set<string>();
  for (const [name, value] of db.recursiveVars) {
    for (const m of value.matchAll(/\$\(shell\b.*/g)) if (refersTo(m[0], inBuild)) late.add(name);
  }
  return closure(db, late);
}

/** The variables given, and every recursive variable that refers to one of them. */
function closure(db: MakeDatabase, names: Set<string>): Set<string> {
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, value] of db.recursiveVars) {
      if (!names.has(name) && refersTo(value, names)) {
        names.add(name);
        changed = true;
      }
    }
  }
  return names;
}

/** Whether make text refers to one of the variables, as `$(name)` or `${name}`. */
export function refersTo(text: string, names: ReadonlySet<string>): boolean {
  if (names.size === 0) return false;
  for (const m of text.matchAll(/\$[({]([A-Za-z_][\w.+-]*)[)}]/g)) if (names.has(m[1]!)) return true;
  return false;
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
