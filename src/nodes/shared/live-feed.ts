// The one live printer socket of an App Connection (issue 16), owned by its PrinterConnection: made
// when the first live/auto status node subscribes, stopped when the last one goes and when the config
// node closes. The platform is detected once from the command API status; a platform without a push
// channel the node can use (Bambu/CC2: no serial number can be entered yet) says `unsupported`, and the
// nodes poll. Subscribers get the latest state and snapshot at once (a late subscriber is current).
import {
  type Clock,
  type ClockTimer,
  LiveConnection,
  type LivePlatform,
  type LiveState,
  type OctoEverywhereClient,
  parseJobStatus,
  type PrinterSnapshot,
} from '../../client';
import { asOctoEverywhereError, stops } from './failure';

/** An unreachable printer at detection is asked again this much later. */
export const DETECT_RETRY_MS = 30_000;

export interface LiveSubscriber {
  state(state: LiveState): void;
  snapshot(snapshot: PrinterSnapshot): void;
}

export interface LiveFeedOptions {
  clock: Clock;
  printerName: string | null;
  /** The catalog's words for a platform without a usable push channel. */
  noPush: string;
}

/** Moonraker's status features (the axis/home/extrude/temperature bits only Klipper reports). */
const MOONRAKER_ONLY = 2 | 4 | 8 | 16;
const LIGHT = 1;

/**
 * The platform from the command API status. Moonraker alone reports the motion features; OctoPrint
 * reports neither motion nor lights. Bambu and CC2 (lights, no motion) cannot be told apart and need a
 * serial number the config node has no field for yet: no push for them.
 */
export function platformOf(features: number): LivePlatform | undefined {
  if ((features & MOONRAKER_ONLY) === MOONRAKER_ONLY) return 'moonraker';
  if ((features & (MOONRAKER_ONLY | LIGHT)) === 0) return 'octoprint';
  return undefined;
}

export class LiveFeed {
  readonly #subscribers = new Set<LiveSubscriber>();
  #live?: LiveConnection;
  #detecting = false;
  /** Bumped on every stop, so a detection that ends after it is dropped. */
  #generation = 0;
  #state: LiveState = { status: 'connecting', attempt: 1 };
  #closed = false;
  #retry?: ClockTimer;
  readonly #abort = new AbortController();

  constructor(
    private readonly client: () => OctoEverywhereClient,
    private readonly options: LiveFeedOptions,
  ) {}

  /** The nodes subscribed now: for tests of the sharing and the release. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** A socket is open or being made (not while detecting, unsupported or stopped). */
  get running(): boolean {
    return this.#live !== undefined && (this.#state.status === 'connecting' || this.#state.status === 'connected');
  }

  get state(): LiveState {
    return this.#state;
  }

  subscribe(subscriber: LiveSubscriber): () => void {
    this.#subscribers.add(subscriber);
    subscriber.state(this.#state);
    const latest = this.#live?.latest;
    if (latest && this.#state.status === 'connected') subscriber.snapshot(latest);
    if (this.#live)
      this.#live.start(); // a stopped socket gets one fresh try on a redeploy
    else if (!this.#detecting) {
      this.#detecting = true;
      void this.detect(this.#generation);
    }
    return () => {
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size === 0) this.stop();
    };
  }

  close(): void {
    this.#closed = true;
    this.#abort.abort();
    this.#subscribers.clear();
    this.stop();
  }

  private stop(): void {
    const live = this.#live;
    this.#live = undefined;
    this.#detecting = false;
    this.#generation++;
    this.options.clock.clearTimer(this.#retry);
    this.#retry = undefined;
    this.#state = { status: 'connecting', attempt: 1 };
    live?.removeAllListeners();
    live?.stop();
  }

  /** Never rejects. */
  private async detect(generation: number): Promise<void> {
    let platform: LivePlatform | undefined;
    try {
      const client = this.client();
      platform = platformOf(parseJobStatus(await client.commands.status({ signal: this.#abort.signal })).features);
      if (this.#closed || this.#generation !== generation) return;
      if (!platform) {
        this.setState({ status: 'unsupported', code: 'OE_LIVE_NO_PUSH', reason: this.options.noPush });
        return;
      }
      const live = new LiveConnection({ connection: client.connection, platform, clock: this.options.clock, printerName: this.options.printerName });
      live.on('state', (s) => this.setState(s));
      live.on('snapshot', (s) => {
        for (const sub of [...this.#subscribers]) sub.snapshot(s);
      });
      this.#live = live;
      live.start();
    } catch (err) {
      if (this.#closed || this.#generation !== generation) return;
      // The poller reports the same trouble to the user; an offline printer is asked again later,
      // a permanent error waits for the next subscriber (a redeploy).
      const error = asOctoEverywhereError(err);
      this.#detecting = false;
      if (stops(error)) {
        this.setState({ status: 'stopped', error });
        return;
      }
      const attempt = this.#state.status === 'connecting' ? this.#state.attempt + 1 : 1;
      this.setState({ status: 'connecting', attempt, retryInMs: DETECT_RETRY_MS, error });
      this.#retry = this.options.clock.setTimeout(() => {
        this.#retry = undefined;
        this.#detecting = true;
        void this.detect(generation);
      }, DETECT_RETRY_MS);
    }
  }

  private setState(state: LiveState): void {
    this.#state = state;
    for (const sub of [...this.#subscribers]) sub.state(state);
  }
}
