import path from 'node:path';
import type { BuildOptions } from '../graph/buildOptions.js';
import type { ShellPool } from '../graph/executor.js';
import type { SharedCache } from '../graph/sharedCache.js';
import { launcherFor } from '../osv/distribute.js';
import type { Project } from '../osv/project.js';
import { withColour } from '../osv/recipes.js';
import type { BuildChoices } from './buildChoices.js';

/** What the session gives every build: where its scratch files go, its shells, the shared cache. */
export interface SessionBuildSetting {
  readonly onEvent: BuildOptions['onEvent'];
  readonly niceness: number;
  readonly dirty: ReadonlySet<string> | undefined;
  readonly shells: ShellPool | undefined;
  readonly scratchDir: string;
  readonly shared: SharedCache | undefined;
}

/**
 * The builder's options for a project and a client's choices: the project's folders and knobs, the
 * launcher its config names (distcc, icecc), colours, the failure limit (make's: the first).
 */
export function builderOptions(project: Project, choices: Omit<BuildChoices, 'tracker'> & { jobs: number }, s: SessionBuildSetting): BuildOptions {
  const stateRel = path.relative(project.root, project.stateDir);
  const launcher = launcherFor({ distribute: project.config.distribute, configFile: project.configFile, env: project.baseEnv, scratchDir: s.scratchDir });
  return {
    root: project.root,
    jobs: choices.jobs,
    context: project.knobs,
    onEvent: s.onEvent,
    niceness: s.niceness,
    scratchDir: s.scratchDir,
    dirty: s.dirty,
    shells: s.shells,
    outputFolders: [project.outDir],
    skipFolder: (rel) => rel === stateRel,
    targets: choices.targets,
    failureLimit: choices.failureLimit ?? 1,
    commandsFor: choices.colour ? (a) => withColour(a.kind, a.commands) : undefined,
    shared: s.shared,
    signal: choices.signal,
    preprocess: project.config.preprocess,
    launcher,
  };
}
