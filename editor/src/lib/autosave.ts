/**
 * Autosave of the draft with optimistic concurrency. The status is always visible in the toolbar:
 * saved → dirty (edited) → saving → saved, or conflict (the server has a newer draft: 409) or
 * error. In `conflict` nothing is saved automatically any more: the user chooses to reload the
 * server's draft or to overwrite it explicitly. A stale draft is never silently overwritten.
 */
export type SaveStatus = 'saved' | 'dirty' | 'saving' | 'conflict' | 'error';

export interface SaveState {
  status: SaveStatus;
  /** Draft version the next save sends as If-Match. */
  draftVersion: number;
  /** Edit counter: a save only marks "saved" if no edit happened while it was in flight. */
  revision: number;
  savedRevision: number;
  lastSavedAt: number | null;
  error: string | null;
}

export type SaveEvent =
  | { type: 'edit' }
  | { type: 'save-start' }
  | { type: 'save-ok'; draftVersion: number; revision: number; at: number }
  | { type: 'save-conflict' }
  | { type: 'save-error'; message: string }
  /** The user reloaded the server's draft (or a restore/ install replaced it). */
  | { type: 'loaded'; draftVersion: number };

export function initialSaveState(draftVersion: number): SaveState {
  return { status: 'saved', draftVersion, revision: 0, savedRevision: 0, lastSavedAt: null, error: null };
}

export function saveReducer(s: SaveState, e: SaveEvent): SaveState {
  switch (e.type) {
    case 'edit':
      return { ...s, revision: s.revision + 1, status: s.status === 'conflict' ? 'conflict' : s.status === 'saving' ? 'saving' : 'dirty' };
    case 'save-start':
      return { ...s, status: 'saving', error: null };
    case 'save-ok': {
      const savedRevision = Math.max(s.savedRevision, e.revision);
      return {
        ...s,
        draftVersion: e.draftVersion,
        savedRevision,
        lastSavedAt: e.at,
        status: savedRevision >= s.revision ? 'saved' : 'dirty',
        error: null,
      };
    }
    case 'save-conflict':
      return { ...s, status: 'conflict', error: 'Someone else saved this grid. Reload their version or overwrite it.' };
    case 'save-error':
      return { ...s, status: 'error', error: e.message };
    case 'loaded':
      return { ...initialSaveState(e.draftVersion), revision: 0 };
    default: {
      const never: never = e;
      return never;
    }
  }
}

export interface SaveResult {
  draftVersion: number;
}

export interface AutosaverOptions<D> {
  /** Performs the PUT; must reject with an error whose `status` is 409 on a stale draft. */
  save: (doc: D, draftVersion: number) => Promise<SaveResult>;
  onChange: (s: SaveState) => void;
  delayMs?: number;
  now?: () => number;
}

/**
 * Debounced saver around `saveReducer`. `edit(doc)` schedules a save; only one request is in
 * flight, a newer edit during a save is saved right after it.
 */
export class Autosaver<D> {
  private state: SaveState;
  private latest: D | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Promise<void> | null = null;
  private readonly delay: number;

  constructor(draftVersion: number, private readonly opts: AutosaverOptions<D>) {
    this.state = initialSaveState(draftVersion);
    this.delay = opts.delayMs ?? 800;
  }

  get snapshot(): SaveState {
    return this.state;
  }

  private dispatch(e: SaveEvent) {
    this.state = saveReducer(this.state, e);
    this.opts.onChange(this.state);
  }

  edit(doc: D): void {
    this.latest = doc;
    this.dispatch({ type: 'edit' });
    if (this.state.status === 'conflict') return;
    this.schedule();
  }

  private schedule() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.delay);
  }

  /** Saves now (e.g. before publishing). Resolves when the latest edit is stored or failed. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.inFlight) {
      await this.inFlight;
    }
    if (this.state.status === 'conflict' || this.latest === null) return;
    if (this.state.savedRevision >= this.state.revision) return;
    const doc = this.latest;
    const revision = this.state.revision;
    this.dispatch({ type: 'save-start' });
    this.inFlight = (async () => {
      try {
        const r = await this.opts.save(doc, this.state.draftVersion);
        this.dispatch({ type: 'save-ok', draftVersion: r.draftVersion, revision, at: (this.opts.now ?? Date.now)() });
      } catch (err) {
        if ((err as { status?: number }).status === 409) this.dispatch({ type: 'save-conflict' });
        else this.dispatch({ type: 'save-error', message: (err as Error).message });
      }
    })();
    await this.inFlight;
    this.inFlight = null;
    if (this.state.status === 'dirty') await this.flush();
  }

  /** After a conflict: save the local draft over the server's newer one, at the user's explicit request. */
  async overwrite(serverDraftVersion: number): Promise<void> {
    this.state = { ...this.state, status: 'dirty', draftVersion: serverDraftVersion, savedRevision: Math.min(this.state.savedRevision, this.state.revision - 1) };
    this.opts.onChange(this.state);
    await this.flush();
  }

  /** The server's draft replaced the local one (reload after conflict, restore, initial load). */
  loaded(draftVersion: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.latest = null;
    this.dispatch({ type: 'loaded', draftVersion });
  }

  /** Retry after a network/server error. */
  retry(): void {
    if (this.state.status === 'error') {
      this.state = { ...this.state, status: 'dirty' };
      void this.flush();
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
