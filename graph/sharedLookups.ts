import type { Action, BuildContext } from './action.js';
import type { BuildGraph } from './graph.js';
import type { SharedAnswer, SharedCache } from './sharedCache.js';

/**
 * The builder's side of a shared cache: which actions were asked about in this build, the answers
 * waiting to be decided again (within the job limit, by the builder), and the actions waiting for
 * files a shared result names before they are asked again.
 *
 * Lookups take no job slot (an answer is a download, not work for this machine's cores), so every
 * ready action is looked up at once; what must still run then waits for a slot like any other.
 */
export class SharedLookups {
  private readonly asked = new Set<string>();
  /** Deferred actions, asked a second time when woken. */
  private readonly askedAgain = new Set<string>();
  private fetching = 0;
  private readonly answered: Action[] = [];
  /** Actions waiting for others to write files a shared result names (see deferUntilWritten), by id. */
  private readonly deferred = new Map<string, { action: Action; waitingFor: Set<string> }>();
  /** For each action some deferred ones wait for, their ids. */
  private readonly wakers = new Map<string, string[]>();
  private readonly finishedIds = new Set<string>();

  constructor(
    private readonly shared: SharedCache,
    private readonly graph: BuildGraph,
    private readonly context: BuildContext,
    /** Called when an answer came (the builder pumps). */
    private readonly answeredNow: () => void,
    private readonly failed: (err: unknown) => void,
  ) {}

  /** Ask about an action the local store cannot satisfy; false when it was asked already in this build. */
  ask(action: Action, preKey: string): boolean {
    if (this.asked.has(action.id)) return false;
    this.asked.add(action.id);
    this.fetching++;
    this.shared.fetch(action, preKey, this.context).then(
      (answer) => {
        this.fetching--;
        if (!this.deferUntilWritten(action, answer)) this.answered.push(action);
        this.answeredNow();
      },
      (err) => this.failed(err),
    );
    return true;
  }

  /** An action whose answer came, to decide again (the rebuilder finds it restorable when it was found). */
  nextAnswered(): Action | undefined {
    return this.answered.shift();
  }

  get hasAnswered(): boolean {
    return this.answered.length > 0;
  }

  /** Lookups under way, or answers not yet taken. */
  get busy(): boolean {
    return this.fetching > 0 || this.answered.length > 0;
  }

  /**
   * The build has nothing else to do: what deferred actions wait for cannot come first (it waits for
   * them, or for a failure). Decide them now; true when there were any.
   */
  releaseDeferred(): boolean {
    if (this.deferred.size === 0) return false;
    for (const { action } of this.deferred.values()) this.answered.push(action);
    this.deferred.clear();
    this.wakers.clear();
    return true;
  }

  /** An action finished: deferred ones that waited only for it are asked again. */
  finished(id: string): void {
    this.finishedIds.add(id);
    for (const waiter of this.wakers.get(id) ?? []) {
      const d = this.deferred.get(waiter);
      if (!d) continue;
      d.waitingFor.delete(id);
      if (d.waitingFor.size > 0) continue;
      this.deferred.delete(waiter);
      this.asked.delete(waiter);
      this.answered.push(d.action);
    }
    this.wakers.delete(id);
  }

  /**
   * A shared result that would do but for files other actions of this build have yet to write
   * (headers this graph does not know the action reads: it has no last run here yet): ask again once
   * they are written, rather than run the action now, when it may even fail for want of them.
   * An action is deferred once; its second answer is final.
   */
  private deferUntilWritten(action: Action, answer: SharedAnswer): boolean {
    if (answer.found || !answer.missing || this.askedAgain.has(action.id)) return false;
    const waitingFor = new Set<string>();
    for (const p of answer.missing) {
      const producer = this.graph.producerOf(p);
      if (producer && producer.id !== action.id && !this.finishedIds.has(producer.id)) waitingFor.add(producer.id);
    }
    if (waitingFor.size === 0) return false;
    this.askedAgain.add(action.id);
    this.deferred.set(action.id, { action, waitingFor });
    for (const id of waitingFor) this.wakers.set(id, [...(this.wakers.get(id) ?? []), action.id]);
    return true;
  }
}
