// What every webcam node of one printer shares, owned by its config node (PrinterConnection): the
// webcam list (cached, since it changes only when the user edits the printer's cameras) and the 609
// cool-down, so that no node of the printer asks while the service refuses. No timers: the
// cool-down is a point in time on the clock.
import type { Clock, WebcamList } from '../../client';

/** An unknown name or index refreshes the list at once; otherwise it is asked again after this. */
export const WEBCAM_LIST_TTL_MS = 5 * 60_000;

export class PrinterWebcams {
  #list?: Promise<WebcamList>;
  #listAt = 0;
  #coolDownUntil = 0;

  constructor(private readonly clock: Clock) {}

  /** Clock time until which no webcam request goes out (0: none). */
  get coolDownUntil(): number {
    return this.#coolDownUntil;
  }

  /** Milliseconds of cool-down left (0 when none). */
  coolDownLeft(): number {
    return Math.max(0, this.#coolDownUntil - this.clock.now());
  }

  startCoolDown(ms: number): void {
    this.#coolDownUntil = this.clock.now() + ms;
  }

  /**
   * The cached list, or `load()`'s when there is none, it is old, or `fresh` asks for it. Shared by
   * every message and node of the printer; a failed look-up is not kept, so the next one asks again.
   */
  list(fresh: boolean, load: () => Promise<WebcamList>): Promise<WebcamList> {
    const now = this.clock.now();
    if (fresh || !this.#list || now - this.#listAt > WEBCAM_LIST_TTL_MS) {
      const list = load();
      this.#list = list;
      this.#listAt = now;
      list.catch(() => {
        if (this.#list === list) this.#list = undefined;
      });
    }
    return this.#list;
  }

  /** A list got elsewhere (the editor's picker) serves the nodes too. */
  remember(list: WebcamList): void {
    this.#list = Promise.resolve(list);
    this.#listAt = this.clock.now();
  }

  /** The config node closed: nothing is kept for the next deploy. */
  close(): void {
    this.#list = undefined;
    this.#coolDownUntil = 0;
  }
}
