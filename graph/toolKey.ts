import type { Action, FileHash } from './action.js';

/**
 * What an action's key sees of the program it runs (see ToolUse): its files' contents, not its name or
 * where it lies. A symbolic link adds nothing of its own: the file it leads to is listed after it.
 */

/** The commands as the key covers them: the tool's name left out of the command that runs it. */
export function keyedCommands(action: Action): readonly string[] {
  const tool = action.tool;
  if (!tool) return action.commands;
  const [start, end] = tool.name;
  return action.commands.map((c, i) => (i === tool.command ? c.slice(0, start) + c.slice(end) : c));
}

/** The inputs as the key covers them: the tool's files apart, as their contents in the tool's order. */
export function keyedInputs(action: Action, inputs: readonly FileHash[]): { files: string[][]; tool: string[] } {
  const tool = action.tool;
  if (!tool) return { files: inputs.map((i) => [...i]), tool: [] };
  const files: string[][] = [];
  const byPath = new Map<string, string>();
  for (const [p, h] of inputs) {
    if (tool.files.includes(p)) byPath.set(p, h);
    else files.push([p, h]);
  }
  const contents = tool.files.map((f) => byPath.get(f) ?? 'missing').filter((h) => !h.startsWith('link:'));
  return { files, tool: contents };
}
