// The one simulated user: their printers, App and Shared Connections, Supporter status and limits.
// Every part of the service asks this object who a request belongs to and whether it may proceed.
import type { SimPrinter } from '../contract';
import { appHostLabel, sharedHostLabel, token } from './ids';
import type { PrinterLimitsWire } from './limits';

export type ConnectionKind = 'app' | 'shared';
export type ConnectionState = 'active' | 'revoked' | 'removed';

export interface Connection {
  readonly id: string;
  readonly kind: ConnectionKind;
  /** The first DNS label of the public host, `app-…` or `shared-…`. */
  readonly hostLabel: string;
  /** Public origin, e.g. http://app-….localhost:41234 (stands in for https://app-….octoeverywhere.com). */
  readonly origin: string;
  readonly printer: SimPrinter;
  readonly basicUser: string;
  readonly basicPassword: string;
  readonly bearerToken: string;
  /** Only App Connections have one (Shared Connections cannot use the App APIs). */
  readonly appApiToken?: string;
  readonly appId?: string;
  /** Precomputed `Authorization` values, so the hot path is a string comparison. */
  readonly basicHeader: string;
  readonly bearerHeader: string;
  state: ConnectionState;
}

/**
 * The portal's completion keys, spelled and ordered as production sends them (docs/octoeverywhere.md §1,
 * fixtures `success_production`).
 */
export interface CompletionKeys {
  success: 'true';
  id: string;
  url: string;
  appApiToken: string;
  printername: string;
  userPrinterAccessUrl: string;
  printerLastKnownLocalIp?: string;
  authbasichttpuser: string;
  authbasichttppassword: string;
  authBearerToken: string;
  octoPrintApiKey?: string;
}

export interface AppConnectionOptions {
  appId?: string;
  /** Ask the printer for an OctoPrint API key under this app name (2–60 chars; OctoPrint only). */
  octoPrintApiKeyAppName?: string;
}

/** Presence as the Info API reports it, learned by observing `printer.online`. */
interface Presence {
  online: boolean;
  lastConnect: number;
  /** undefined = never disconnected (Info sends "0001-01-01T00:00:00"). */
  lastDisconnect?: number;
}

export interface AccountOptions {
  /** All printers the simulator runs; `linked` ones are on the account, the rest can be added in the portal. */
  printers: Array<{ printer: SimPrinter; linked: boolean }>;
  supporter: boolean;
  limits: PrinterLimitsWire;
  now: () => number;
  /** The service origin (stands in for https://octoeverywhere.com). */
  serviceUrl: string;
  /** Public origin for a relay host label. */
  relayOrigin: (hostLabel: string) => string;
}

export class Account {
  readonly email = 'demo@example.com';
  supporter: boolean;
  readonly limits: PrinterLimitsWire;
  /** Printers on the account, in the order the user added them. */
  readonly printers: SimPrinter[] = [];
  /** Every running printer, linked or not, by Printer ID. */
  private readonly known = new Map<string, SimPrinter>();
  private readonly byHostLabel = new Map<string, Connection>();
  private readonly byId = new Map<string, Connection>();
  private readonly byAppToken = new Map<string, Connection>();
  private readonly shared = new Map<SimPrinter, Connection>();
  private readonly presence = new Map<SimPrinter, Presence>();

  constructor(private readonly options: AccountOptions) {
    this.supporter = options.supporter;
    this.limits = options.limits;
    for (const { printer, linked } of options.printers) {
      this.known.set(printer.printerId, printer);
      this.presence.set(printer, { online: printer.online, lastConnect: options.now() });
      if (linked) this.printers.push(printer);
    }
  }

  get serviceUrl(): string {
    return this.options.serviceUrl;
  }

  /** A printer on the account by object, index or Printer ID. */
  printer(ref: SimPrinter | number | string): SimPrinter {
    const printer =
      typeof ref === 'number'
        ? this.printers[ref]
        : typeof ref === 'string'
          ? this.printers.find((p) => p.printerId === ref)
          : this.printers.includes(ref)
            ? ref
            : undefined;
    if (!printer) throw new RangeError(`no such printer on the account: ${String(typeof ref === 'object' ? ref.name : ref)}`);
    return printer;
  }

  /** A running printer that is not on the account yet (the portal's "add this printer" step). */
  unlinkedPrinter(printerId: string): SimPrinter | undefined {
    const printer = this.known.get(printerId);
    return printer && !this.printers.includes(printer) ? printer : undefined;
  }

  link(printer: SimPrinter): void {
    if (!this.printers.includes(printer)) this.printers.push(printer);
  }

  userFacingPrinterUrl(printer: SimPrinter): string {
    return `${this.options.serviceUrl}/view/${encodeURIComponent(printer.name)}`;
  }

  createAppConnection(ref: SimPrinter | number, opts: AppConnectionOptions = {}): CompletionKeys {
    const printer = this.printer(ref);
    const conn = this.addConnection('app', printer, appHostLabel(), opts.appId);
    const apiKey = opts.octoPrintApiKeyAppName !== undefined && printer.kind === 'octoprint' ? printer.createApiKey(opts.octoPrintApiKeyAppName) : undefined;
    return {
      success: 'true',
      id: conn.id,
      url: conn.origin,
      appApiToken: conn.appApiToken ?? '',
      printername: printer.name,
      userPrinterAccessUrl: this.userFacingPrinterUrl(printer),
      ...(printer.localIp ? { printerLastKnownLocalIp: printer.localIp } : {}),
      authbasichttpuser: conn.basicUser,
      authbasichttppassword: conn.basicPassword,
      authBearerToken: conn.bearerToken,
      ...(apiKey !== undefined ? { octoPrintApiKey: apiKey } : {}),
    };
  }

  /** The printer's one Shared Connection, created on first use. */
  sharedConnection(ref: SimPrinter | number): Connection {
    const printer = this.printer(ref);
    let conn = this.shared.get(printer);
    if (!conn) {
      conn = this.addConnection('shared', printer, sharedHostLabel());
      this.shared.set(printer, conn);
    }
    return conn;
  }

  connectionByHostLabel(label: string): Connection | undefined {
    return this.byHostLabel.get(label);
  }

  connectionByAppToken(appToken: string): Connection | undefined {
    return this.byAppToken.get(appToken);
  }

  /** Live App Connections of a printer (for webhook deliveries). */
  activeAppConnections(printer: SimPrinter): Connection[] {
    const out: Connection[] = [];
    for (const conn of this.byId.values()) {
      if (conn.kind === 'app' && conn.state === 'active' && conn.printer === printer) out.push(conn);
    }
    return out;
  }

  revoke(connectionId: string): void {
    this.connection(connectionId).state = 'revoked';
  }

  remove(connectionId: string): void {
    this.connection(connectionId).state = 'removed';
  }

  /** Learns connect/disconnect times from `printer.online`, which tests flip directly. */
  observe(printer: SimPrinter): Readonly<Presence> {
    let presence = this.presence.get(printer);
    if (!presence) {
      presence = { online: printer.online, lastConnect: this.options.now() };
      this.presence.set(printer, presence);
    }
    if (presence.online !== printer.online) {
      presence.online = printer.online;
      if (printer.online) presence.lastConnect = this.options.now();
      else presence.lastDisconnect = this.options.now();
    }
    return presence;
  }

  private connection(connectionId: string): Connection {
    const conn = this.byId.get(connectionId);
    if (!conn) throw new RangeError(`no such connection: ${connectionId}`);
    return conn;
  }

  private addConnection(kind: ConnectionKind, printer: SimPrinter, hostLabel: string, appId?: string): Connection {
    const basicUser = token(8);
    const basicPassword = token(16);
    const bearerToken = token(32);
    const conn: Connection = {
      id: token(8).toLowerCase(),
      kind,
      hostLabel,
      origin: this.options.relayOrigin(hostLabel),
      printer,
      basicUser,
      basicPassword,
      bearerToken,
      appApiToken: kind === 'app' ? token(32) : undefined,
      appId,
      basicHeader: `Basic ${Buffer.from(`${basicUser}:${basicPassword}`).toString('base64')}`,
      bearerHeader: `Bearer ${bearerToken}`,
      state: 'active',
    };
    this.byHostLabel.set(hostLabel, conn);
    this.byId.set(conn.id, conn);
    if (conn.appApiToken) this.byAppToken.set(conn.appApiToken, conn);
    return conn;
  }
}

/** Whether an `Authorization` header value carries this connection's Basic or Bearer credentials. */
export function authorizationMatches(conn: Connection, authorization: string | undefined): boolean {
  if (!authorization) return false;
  if (authorization === conn.bearerHeader || authorization === conn.basicHeader) return true;
  // Slow path: scheme case and extra spaces vary between HTTP clients.
  const space = authorization.indexOf(' ');
  if (space < 0) return false;
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  if (scheme === 'bearer') return value === conn.bearerToken;
  if (scheme === 'basic') return decodeBase64(value) === `${conn.basicUser}:${conn.basicPassword}`;
  return false;
}

/** The MQTT proxy's `oe_api_key`: the bearer token, or base64(user:password) (docs/octoeverywhere.md §3). */
export function oeApiKeyMatches(conn: Connection, key: string): boolean {
  return key === conn.bearerToken || decodeBase64(key) === `${conn.basicUser}:${conn.basicPassword}`;
}

const decodeBase64 = (value: string): string => Buffer.from(value, 'base64').toString('utf8');
