import fs from 'node:fs';
import path from 'node:path';
import { OsvdError } from '../base/errors.js';

/** Errors of a file system that say osvd may not write where it keeps its state. */
const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * Run `open` (making the state folder, its log, its scratch folder); a refusal to write there
 * becomes STATE_DIR, naming the path and, when someone else owns it, who: the usual cause is a build
 * folder made by a build run as root (`sudo scripts/build`), then used by its user. Before 2026-12-04
 * it ended osvd with a Node stack (exit 70).
 */
export function inStateFolder<T>(stateDir: string, open: () => T): T {
  try {
    return open();
  } catch (err) {
    throw stateFolderError(err, stateDir) ?? err;
  }
}

export function stateFolderError(err: unknown, stateDir: string): OsvdError | undefined {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code !== 'string' || !DENIED.has(e.code)) return undefined;
  const at = e.path ?? stateDir;
  const reason = e.code === 'EROFS' ? 'its file system is read-only' : 'permission denied';
  return new OsvdError('STATE_DIR', `cannot write in the state folder: ${reason} (${e.code})`, { file: at, field: 'stateDir', hint: hintFor(e.code, at, stateDir), cause: err });
}

function hintFor(code: string, at: string, stateDir: string): string {
  const elsewhere = 'or set stateDir in osv.config.ts to a folder you can write';
  if (code === 'EROFS') return `build on a writable file system, ${elsewhere}`;
  const owned = nearestExisting(at);
  const me = process.getuid?.();
  if (owned && me !== undefined && owned.uid !== me) {
    const buildDir = path.dirname(stateDir);
    return `${owned.path} belongs to ${userName(owned.uid)} (uid ${owned.uid}), not to you (uid ${me}): made by a build run as that user? chown -R it back (sudo chown -R ${userName(me)} ${buildDir}), ${elsewhere}`;
  }
  return `check the permissions of ${owned?.path ?? at} (ls -ld), ${elsewhere}`;
}

/** The path itself or its nearest folder that exists, with its owner. */
function nearestExisting(p: string): { path: string; uid: number } | undefined {
  for (let at = p; ; at = path.dirname(at)) {
    const st = fs.statSync(at, { throwIfNoEntry: false });
    if (st) return { path: at, uid: st.uid };
    if (path.dirname(at) === at) return undefined;
  }
}

/** A user's name from /etc/passwd; the number when it is not there. */
function userName(uid: number): string {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return name;
    }
  } catch {
    // no passwd file: the number will do
  }
  return String(uid);
}
