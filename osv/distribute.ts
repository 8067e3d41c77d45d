import fs from 'node:fs';
import path from 'node:path';
import { ToolMissingError } from '../base/errors.js';
import type { Action } from '../graph/action.js';
import { DistccLauncher } from '../graph/distccLauncher.js';
import { DistccHostError, parseDistccHosts, type DistccHostList } from '../graph/distccHosts.js';
import { IceccLauncher } from '../graph/iceccLauncher.js';
import type { CompileLine, Launcher } from '../graph/launcher.js';
import type { DistributeConfig } from './distributeConfig.js';
import { ConfigError } from './errors.js';
import { compileLineOf } from './recipes.js';

export interface LauncherSetting {
  readonly distribute: DistributeConfig | false | undefined;
  readonly configFile?: string;
  /** The environment the build runs with (osvd's, filtered: PATH, HOME, DISTCC_*, ...). */
  readonly env: Readonly<Record<string, string>>;
  /** A private folder of this process, for distcc's log. */
  readonly scratchDir: string;
}

/**
 * The launcher for the build, or undefined: `distribute` in the config, or, without it, the
 * DISTCC_HOSTS the user already has (`distribute: false` turns that off).
 */
export function launcherFor(s: LauncherSetting): Launcher | undefined {
  const d = s.distribute;
  if (d === false) return undefined;
  if (d === undefined) {
    const hosts = s.env.DISTCC_HOSTS;
    if (!hosts?.trim() || !onPath('distcc', s.env)) return undefined;
    return distcc(s, { tool: 'distcc' }, { text: hosts, origin: { field: '$DISTCC_HOSTS' } });
  }
  const field = 'distribute.tool';
  if (!onPath(d.tool, s.env)) throw new ToolMissingError(d.tool, { file: s.configFile, field, hint: `install it (on Debian: apt-get install ${d.tool})` });
  if (d.tool === 'icecc') return new IceccLauncher({ slots: d.jobs!, compileLine: compileLineFor('icecc') });
  return distcc(s, d, distccHostsText(s, d));
}

interface HostsText {
  readonly text: string;
  /** Where it came from, for errors: the config's field, the variable, or a hosts file. */
  readonly origin: { file?: string; field?: string };
}

function distcc(s: LauncherSetting, d: DistributeConfig, hosts: HostsText): Launcher {
  let list: DistccHostList;
  try {
    list = parseDistccHosts(hosts.text);
  } catch (err) {
    if (!(err instanceof DistccHostError)) throw err;
    throw new ConfigError(`distcc's host list: ${err.message}`, { ...hosts.origin, hint: "entries are HOST[:PORT][/LIMIT][,lzo], localhost[/LIMIT] or @HOST (see 'man distcc', HOST SPECIFICATIONS)" });
  }
  if (list.zeroconf && d.jobs === undefined) {
    throw new ConfigError("distcc's host list has +zeroconf, whose hosts are found while compiling", { ...hosts.origin, hint: "give 'distribute.jobs' in osv.config.ts" });
  }
  return new DistccLauncher({ hostsText: hosts.text, hosts: list, slots: d.jobs, logFile: path.join(s.scratchDir, 'distcc.log'), compileLine: compileLineFor('distcc') });
}

/** distcc's own order: the config's hosts, DISTCC_HOSTS, $DISTCC_DIR/hosts (~/.distcc/hosts), /etc/distcc/hosts. */
function distccHostsText(s: LauncherSetting, d: DistributeConfig): HostsText {
  if (d.hosts !== undefined) return { text: d.hosts, origin: { file: s.configFile, field: 'distribute.hosts' } };
  if (s.env.DISTCC_HOSTS !== undefined) return { text: s.env.DISTCC_HOSTS, origin: { field: '$DISTCC_HOSTS' } };
  const dir = s.env.DISTCC_DIR ?? (s.env.HOME ? path.join(s.env.HOME, '.distcc') : undefined);
  for (const file of [dir && path.join(dir, 'hosts'), '/etc/distcc/hosts']) {
    if (!file) continue;
    try {
      return { text: fs.readFileSync(file, 'utf8'), origin: { file } };
    } catch {
      // not there: the next place
    }
  }
  throw new ConfigError('distcc has no hosts: none in the config, no DISTCC_HOSTS, no hosts file', {
    file: s.configFile,
    field: 'distribute.hosts',
    hint: "name them, e.g. hosts: 'buildbox/16 10.0.0.7/8' (each runs distccd)",
  });
}

/**
 * The compile line a launcher takes: a compile's; or, in a recipe that compiles then links (OSv's
 * libvdso.so), one that runs the tool itself: that compile is sent away anyway, and launched, it is
 * counted (distcc logs to the launcher's file). Other links stay here.
 */
function compileLineFor(tool: string): (action: Action) => CompileLine | undefined {
  return (action) => {
    if (action.kind === 'compile') return compileLineOf(action.commands);
    const line = action.kind === 'link' ? compileLineOf(action.commands) : undefined;
    return line?.wrappers.includes(tool) ? line : undefined;
  };
}

function onPath(program: string, env: Readonly<Record<string, string>>): boolean {
  for (const dir of (env.PATH ?? '').split(':')) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, program), fs.constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}
