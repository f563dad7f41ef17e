// The receiving side of the notification webhook node: one POST route on Node-RED's httpNode, and a
// guard in front of whatever the mounting app runs first (the editor's body parsers), that refuse
// on the token, label or size before reading, read within the size bound and the read deadline,
// answer 200 before the flow sees the delivery, and are taken out again on close.
import type { Express, Request, RequestHandler, Response } from 'express';
import { type Clock, type Delivery, WebhookRejection, checkContentType, checkSecretKey, checkToken, parseDelivery, readBoundedBody } from '../../client';
import { tooLarge } from '../../client/webhook-intake';
import { checkDepth } from '../../client/webhook-intake';
import { isObject } from '../../client/values';
import { Timers } from './clock';
import { asOctoEverywhereError } from './failure';
import { addFrontMiddleware, addPostRoute, mountingApp, mountPath, requestPathMatcher } from './webhook-route';

const OK_HEADERS = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '2', 'Cache-Control': 'no-store' } as const;

export interface ReceiverOptions {
  app: Express;
  path: string;
  token: string;
  /** User webhooks only: the secret the body must carry. */
  secretKey?: string;
  maxBytes: number;
  readTimeoutMs: number;
  clock: Clock;
  /** Decides a delivery's fate before the answer: what is answered 200 is sent on. */
  wanted(delivery: Delivery): boolean;
  deliver(delivery: Delivery): void;
  /** A delivery was refused with this HTTP status and code (not called once closed). */
  rejected(status: number, code: string): void;
  /** Something in front of this node read the body first (said once). */
  parsedFirst(): void;
}

type ParsedRequest = Request & { _body?: boolean };

export class WebhookReceiver {
  private readonly timers: Timers;
  private readonly inFlight = new Set<AbortController>();
  // Bodies this node's guard read ahead, before any parser in front of httpNode could.
  private readonly readAhead = new WeakSet<Request>();
  private warnedParsed = false;
  private closed = false;
  private readonly removers: Array<() => void> = [];

  constructor(private readonly o: ReceiverOptions) {
    this.timers = new Timers(o.clock);
  }

  start(): void {
    const handler: RequestHandler = (req, res) => {
      this.receive(req, res).catch(() => {
        // receive() handles its own failures; this only keeps a broken socket from becoming an unhandled rejection.
        if (!res.headersSent) res.destroy();
      });
    };
    // In front of whatever the app that mounts httpNode runs first (with Node-RED's default settings,
    // the editor's JSON and form parsers, which would read up to 5 MB with no deadline): for this
    // node's path only, refuse on the token, label or declared size, else read the body within the
    // limits and mark it read (req._body), so that those parsers pass it by.
    const inFront = mountingApp(this.o.app);
    const matches = requestPathMatcher(`${mountPath(this.o.app)}${this.o.path}`);
    const guard: RequestHandler = (req, res, next) => {
      if (req.method !== 'POST' || !matches(req.originalUrl || req.url) || isParsed(req)) {
        next();
        return;
      }
      Promise.resolve()
        .then(async () => {
          this.checkHead(req);
          const body = await this.readBody(req);
          (req as ParsedRequest)._body = true;
          req.body = body;
          this.readAhead.add(req);
        })
        .then(
          () => next(),
          (err: unknown) => this.refuse(req, res, err),
        )
        .catch(() => {
          // As in handler(): a broken socket must not become an unhandled rejection.
          if (!res.headersSent) res.destroy();
        });
    };
    if (inFront) this.removers.push(addFrontMiddleware(inFront, guard));
    this.removers.push(addPostRoute(this.o.app, this.o.path, handler));
  }

  /** Removes the route and the guard, ends body reads; a delivery arriving meanwhile is answered 503. */
  close(): void {
    this.closed = true;
    for (const remove of this.removers.splice(0)) remove();
    this.timers.cancelAll();
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }

  private async receive(req: Request, res: Response): Promise<void> {
    try {
      this.checkHead(req);
      let raw: Buffer | string | Record<string, unknown>;
      if (this.readAhead.has(req)) raw = req.body as Buffer;
      else if (isParsed(req)) raw = this.parsedBefore(req);
      else raw = await this.readBody(req);
      const delivery = parseDelivery(raw);
      checkSecretKey(this.o.secretKey, delivery.body);
      const send = this.o.wanted(delivery);
      if (this.closed) throw new WebhookRejection('OE_CLOSED', 503, 'closed');
      // Answer first: the sender only needs to know it arrived, and must not wait on the flow.
      // Written directly: express's send() would also hash the body for an ETag on every delivery.
      res.writeHead(200, OK_HEADERS).end('OK');
      if (send) this.o.deliver(delivery);
    } catch (err) {
      this.refuse(req, res, err);
    }
  }

  private refuse(req: Request, res: Response, err: unknown): void {
    const rejection = err instanceof WebhookRejection ? err : undefined;
    const status = this.closed ? 503 : (rejection?.httpStatus ?? 500);
    const code = this.closed ? 'OE_CLOSED' : (rejection?.code ?? asOctoEverywhereError(err).code);
    // Node's own methods only: the guard may answer before Express has set up the request.
    // An unread body is not read to its end: the connection closes after the answer.
    if (!res.headersSent) {
      res.writeHead(status, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': String(Buffer.byteLength(code)),
        'Cache-Control': 'no-store',
        ...(req.readableEnded ? {} : { Connection: 'close' }),
      });
      res.end(code);
    }
    if (!this.closed) this.o.rejected(status, code);
  }

  /** The checks that need no body: a wrong token or label is refused without reading a byte. */
  private checkHead(req: Request): void {
    checkToken(this.o.token, req.originalUrl || req.url);
    checkContentType(req.headers);
  }

  /** Reads the body within the size bound and the read deadline. */
  private async readBody(req: Request): Promise<Buffer> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = this.timers.after(this.o.readTimeoutMs, () => controller.abort());
    try {
      return await readBoundedBody(req, this.o.maxBytes, controller.signal);
    } finally {
      this.timers.cancel(timeout);
      this.inFlight.delete(controller);
    }
  }

  /** Something this node could not get in front of read the body: enforce the size, and say so once. */
  private parsedBefore(req: Request): Buffer | string | Record<string, unknown> {
    if (!this.warnedParsed) {
      this.warnedParsed = true;
      this.o.parsedFirst();
    }
    return alreadyRead(req, this.o.maxBytes);
  }
}

/** True when a body parser has already read the request (body-parser's own marker, or the stream is done). */
function isParsed(req: Request): boolean {
  return (req as ParsedRequest)._body === true || req.readableEnded;
}

/**
 * The body as a parser in front of httpNode left it, held to the same size bound: the declared
 * length, else the length of the text or of the parsed value written out again.
 */
function alreadyRead(req: Request, maxBytes: number): Buffer | string | Record<string, unknown> {
  const refused = tooLarge(maxBytes);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw refused;
  const body: unknown = req.body;
  if (Buffer.isBuffer(body) || typeof body === 'string') {
    if (Buffer.byteLength(body) > maxBytes) throw refused;
    return body;
  }
  if (!isObject(body)) throw new WebhookRejection('OE_WEBHOOK_BAD_JSON', 400, 'not JSON');
  checkDepth(body); // before writing it out again, which recurses
  if (Buffer.byteLength(JSON.stringify(body)) > maxBytes) throw refused;
  return body;
}
