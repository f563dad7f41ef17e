// The one live printer socket of an App Connection (issue 16), owned by its PrinterConnection: made
// when the first live/auto status node subscribes, stopped when the last one goes and when the config
// node closes. The platform is detected once from the command API status (livePlatformOf); Bambu Lab
// and Elegoo CC2 go live through the MQTT proxy with the serial number from the config node, and say
// `unsupported` without one (no API returns it), so the nodes poll. Subscribers get the latest state
// and snapshot at once (a late subscriber is current).
import {
  type Clock,
  type ClockTimer,
  LiveConnection,
  type LiveState,
  livePlatformOf,
  needsSerialNumber,
  type OctoEverywhereClient,
  parseJobStatus,
  parseSerialNumber,
  type PrinterSnapshot,
} from '../../client';
import { asOctoEverywhereError, stops } from './failure';

/** An unreachable printer at detection is asked again this much later. */
export const DETECT_RETRY_MS = 30_000;

export interface LiveSubscriber {
  state(state: LiveState): void;
  snapshot(snapshot: PrinterSnapshot): void;
  /**
   * Readings (temperatures, progress, durations) this often are enough for this subscriber; absent:
   * it wants them as the printer pushes them. The socket takes the shortest period asked for, or the
   * pushes if any subscriber wants those (LiveConnectionOptions.readingsMs).
   */
  readonly readingsMs?: number;
}

export interface LiveFeedOptions {
  clock: Clock;
  printerName: string | null;
  /** The config node's serial number as saved (Bambu Lab and Elegoo CC2); checked here. */
  serialNumber?: string;
  /** The catalog's words for why a printer is polled. */
  words: {
    /** No push channel the nodes can use. */
    noPush: string;
    /** Bambu Lab or CC2 without a serial number. */
    needsSerial: string;
    /** Bambu Lab or CC2 by its features, but its platform version does not say which. */
    unknownMqtt: (platformVersion: string) => string;
  };
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

  /** The readings period the subscribers settle on (LiveSubscriber.readingsMs). */
  get readingsMs(): number | undefined {
    let shortest: number | undefined;
    for (const sub of this.#subscribers) {
      if (sub.readingsMs === undefined) return undefined;
      shortest = Math.min(shortest ?? sub.readingsMs, sub.readingsMs);
    }
    return shortest;
  }

  subscribe(subscriber: LiveSubscriber): () => void {
    this.#subscribers.add(subscriber);
    this.#live?.setReadingsMs(this.readingsMs);
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
      else this.#live?.setReadingsMs(this.readingsMs);
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
    try {
      const client = this.client();
      const status = parseJobStatus(await client.commands.status({ signal: this.#abort.signal }));
      if (this.#closed || this.#generation !== generation) return;
      const { words } = this.options;
      const verdict = livePlatformOf(status);
      const platform = verdict.platform;
      if (!platform && verdict.why === 'no-push') {
        this.setState({ status: 'unsupported', code: 'OE_LIVE_NO_PUSH', reason: words.noPush });
        return;
      }
      let serialNumber: string | undefined;
      if (!platform || needsSerialNumber(platform)) {
        try {
          serialNumber = parseSerialNumber(this.options.serialNumber);
        } catch (err) {
          // The user's to fix: one error, no retry (a redeploy with the new value tries again).
          this.setState({ status: 'stopped', error: asOctoEverywhereError(err) });
          return;
        }
        if (serialNumber === undefined) {
          this.setState({ status: 'unsupported', code: 'OE_LIVE_NEEDS_SERIAL', reason: words.needsSerial });
          return;
        }
      }
      if (!platform) {
        // Never guessed: a Bambu subscription on the wrong kind of printer is at best silent.
        this.setState({ status: 'unsupported', code: 'OE_LIVE_PLATFORM_UNKNOWN', reason: words.unknownMqtt(status.platformVersion ?? '') });
        return;
      }
      const live = new LiveConnection({
        connection: client.connection,
        platform,
        clock: this.options.clock,
        printerName: this.options.printerName,
        serialNumber,
        readingsMs: this.readingsMs,
      });
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
