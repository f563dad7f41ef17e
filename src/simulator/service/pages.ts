// The service host's small public pages that App API answers and webhook bodies link to:
// Live Links (/live/<id>, short /l/<id>), event snapshots (/snapshot/<id>), quick views and printer pages.
import http, { type ServerResponse } from 'node:http';
import type { SimClock, SimPrinter } from '../contract';
import type { Account } from './account';
import { page } from './html';
import { escapeHtml, redirect, sendHtml } from './http-util';
import { token } from './ids';

/** Snapshot links in webhook bodies stay valid about 7 days (docs/octoeverywhere.md §5). */
const SNAPSHOT_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

interface LiveLink {
  printer: SimPrinter;
  /** undefined: ends with the current print. */
  expiresAt?: number;
}

export class LiveLinks {
  private readonly links = new Map<string, LiveLink>();

  constructor(
    private readonly clock: SimClock,
    private readonly serviceUrl: string,
  ) {}

  create(printer: SimPrinter, lifetime: number | 'print'): { LiveId: string; Url: string; ShortUrl: string } {
    const id = token(8);
    this.links.set(id, { printer, expiresAt: lifetime === 'print' ? undefined : this.clock.now() + lifetime * HOUR_MS });
    return { LiveId: id, Url: `${this.serviceUrl}/live/${id}`, ShortUrl: `${this.serviceUrl}/l/${id}` };
  }

  get(id: string): LiveLink | undefined {
    const link = this.links.get(id);
    if (link?.expiresAt !== undefined && this.clock.now() > link.expiresAt) {
      this.links.delete(id);
      return undefined;
    }
    return link;
  }
}

export class Pages {
  private readonly snapshots = new Map<string, { printer: SimPrinter; expiresAt: number }>();
  private readonly fetches = new Set<http.ClientRequest>();

  constructor(
    private readonly account: Account,
    private readonly clock: SimClock,
    readonly liveLinks: LiveLinks,
  ) {}

  /** Fresh SnapshotUrl/QuickViewUrl for a webhook body. */
  readonly eventLinks = (printer: SimPrinter): { SnapshotUrl: string; QuickViewUrl: string } => {
    const now = this.clock.now();
    for (const [id, snap] of this.snapshots) if (snap.expiresAt < now) this.snapshots.delete(id);
    const id = token(16);
    this.snapshots.set(id, { printer, expiresAt: now + SNAPSHOT_LIFETIME_MS });
    const base = this.account.serviceUrl;
    return { SnapshotUrl: `${base}/snapshot/${id}`, QuickViewUrl: `${base}/quickview/${id}` };
  };

  /** Serves the page for `path` if it is one of ours; false otherwise. */
  handle(path: string, res: ServerResponse): boolean {
    const [, section = '', id = ''] = path.split('/');
    switch (section) {
      case 'l':
        redirect(res, `/live/${encodeURIComponent(id)}`);
        return true;
      case 'live':
        this.live(decodeURIComponent(id), res);
        return true;
      case 'snapshot':
        this.snapshot(id, res);
        return true;
      case 'quickview':
        this.quickView(id, res);
        return true;
      case 'view':
        this.view(decodeURIComponent(id), res);
        return true;
      default:
        return false;
    }
  }

  close(): void {
    for (const req of this.fetches) req.destroy();
    this.fetches.clear();
  }

  private live(id: string, res: ServerResponse): void {
    const link = this.liveLinks.get(id);
    if (!link) {
      sendHtml(res, 404, page('Live Link', '<h1>This Live Link has expired.</h1>'));
      return;
    }
    const ends = link.expiresAt === undefined ? 'when the current print completes' : new Date(link.expiresAt).toUTCString();
    sendHtml(
      res,
      200,
      page(
        'Live Link',
        `<h1>${escapeHtml(link.printer.name)} — live</h1><p id="state">State: ${escapeHtml(link.printer.state)}</p>` +
          `<p class="note">This link ends ${escapeHtml(ends)}.</p>`,
      ),
    );
  }

  private quickView(id: string, res: ServerResponse): void {
    const snap = this.snapshots.get(id);
    if (!snap || snap.expiresAt < this.clock.now()) {
      sendHtml(res, 404, page('Quick view', '<h1>This link has expired.</h1>'));
      return;
    }
    sendHtml(
      res,
      200,
      page('Quick view', `<h1>${escapeHtml(snap.printer.name)}</h1><img alt="snapshot" style="width:100%" src="/snapshot/${escapeHtml(id)}">`),
    );
  }

  private view(name: string, res: ServerResponse): void {
    const printer = this.account.printers.find((p) => p.name === name);
    if (!printer) {
      sendHtml(res, 404, page('Printer', '<h1>No such printer.</h1>'));
      return;
    }
    sendHtml(res, 200, page(printer.name, `<h1>${escapeHtml(printer.name)}</h1><p>State: ${escapeHtml(printer.state)}</p>`));
  }

  /** The printer's current webcam snapshot, fetched from its plugin's command API. */
  private snapshot(id: string, res: ServerResponse): void {
    const snap = this.snapshots.get(id);
    if (!snap || snap.expiresAt < this.clock.now()) {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
      return;
    }
    const req = http.get(`${snap.printer.url}/octoeverywhere-command-api/webcam/snapshot`, { agent: false }, (printerRes) => {
      res.writeHead(printerRes.statusCode ?? 502, {
        'content-type': printerRes.headers['content-type'] ?? 'application/octet-stream',
        ...(printerRes.headers['content-length'] ? { 'content-length': printerRes.headers['content-length'] } : {}),
      });
      printerRes.pipe(res);
    });
    this.fetches.add(req);
    req.on('close', () => this.fetches.delete(req));
    req.on('error', () => {
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(502, { 'content-length': 0 });
        res.end();
      }
    });
  }
}
