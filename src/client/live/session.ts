// What every platform's live session shares: the sink it reports to, and how a print is recognised
// across reconnects (the platform's own identity, since only the command API knows OctoEverywhere's print id).
import type { Clock } from '../clock';
import type { AppConnection } from '../connection';
import type { OctoEverywhereError } from '../errors';
import type { JobStatus } from '../status';

export type LivePlatform = 'moonraker' | 'octoprint' | 'bambu' | 'elegoo-cc2';

/** Which print a status belongs to: the platform's id when it has one, else the file and its start. */
export interface PrintKey {
  id?: string;
  fileName: string | null;
  /** Estimated start (ms since the epoch): now minus the elapsed time the printer reports. */
  startedAtMs?: number;
}

/** How close two start estimates must be to name the same print (clocks and rounding drift). */
const SAME_START_MS = 90_000;

export function samePrint(a: PrintKey | null, b: PrintKey | null): boolean {
  if (!a || !b) return false;
  if (a.id !== undefined || b.id !== undefined) return a.id === b.id;
  if (a.fileName !== b.fileName) return false;
  if (a.startedAtMs === undefined || b.startedAtMs === undefined) return true;
  return Math.abs(a.startedAtMs - b.startedAtMs) < SAME_START_MS;
}

/** What the platform's host says about itself beyond the job (Moonraker: Klipper's state). */
export type HostNotice = 'ready' | 'shutdown' | 'disconnected' | 'startup';

export interface SessionSink {
  /** A complete normalised status (never a partial one: a session reports only once it holds the whole state). */
  status(job: JobStatus, print: PrintKey | null): void;
  /** Any frame arrived: the socket is alive. */
  alive(): void;
  /** The printer host's own state changed (Klipper shut down, disconnected, ready again). */
  host(notice: HostNotice): void;
  /** The socket ended; `error` says why when it was not our own close. Called at most once. */
  closed(error?: OctoEverywhereError): void;
  /** This session cannot work with this configuration (e.g. OctoPrint without an API key): poll instead. */
  unsupported(reason: string, code: string): void;
}

export interface SessionContext {
  connection: AppConnection;
  clock: Clock;
  /** Bambu Lab and Elegoo CC2: the printer's serial number (no API returns it; the user types it). */
  serialNumber?: string;
  /** How the session names itself to the printer (Moonraker identify, MQTT client ids). */
  clientName: string;
  /** Where the socket goes: the LAN URL is tried first when the connection has one. */
  preferLocal: boolean;
  /** Heartbeat period (ms); sessions with their own keepalive (MQTT) use it too. */
  heartbeatMs: number;
  /**
   * How often the session should ask for the readings (temperatures, progress, durations) instead of
   * having each change pushed; undefined: as the printer pushes them. Read at each use: it can change
   * on a running session, which is then told (LiveSession.readingsChanged).
   */
  readingsMs?: () => number | undefined;
  /** What a platform remembers across the supervisor's attempts (e.g. Bambu's endings right after subscribing). */
  memo: Record<string, number>;
}

/** One live socket to the printer, for one connection attempt. The supervisor makes a new one to reconnect. */
export interface LiveSession {
  /** Opens the socket and starts the platform's conversation; rejects with an OctoEverywhereError if the socket cannot open. */
  open(sink: SessionSink): Promise<{ via: 'relay' | 'local' }>;
  /** Called every heartbeat period: send the keepalives. Returns false when nothing arrived since the last call (the socket is dead). */
  heartbeat(): boolean;
  /** SessionContext.readingsMs changed (sessions that act on it: Moonraker). */
  readingsChanged?(): void;
  /** Ends the socket (no sink.closed afterwards): cleanly, or at once when the path is dead. */
  close(how?: 'clean' | 'dead'): void;
}
