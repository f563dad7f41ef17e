// Transport failures (axios, Node sockets) mapped to our errors, in one place. Nothing of the library
// error is kept: it carries the request config, headers (and so credentials) included.
import axios, { AxiosError } from 'axios';
import type { Deadline } from './deadline';
import { NetworkError, OctoEverywhereError } from './errors';

/** Socket codes that mean nothing listens at the address (the request never reached anyone). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTDOWN']);

/**
 * A failure of the relay fast path (http-transport.ts) named with axios's codes, so that both clients'
 * failures map to the same errors here: ERR_CANCELED, ERR_BAD_RESPONSE (size cap, cut-off answer).
 */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

function codeOf(err: unknown): string | undefined {
  return err instanceof AxiosError ? err.code : (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Maps a transport failure to our error. With the request's deadline: a request cut short because its
 * time was up is OE_TIMEOUT, whatever the transport said about being aborted.
 */
export function networkError(err: unknown, what: string, deadline?: Deadline): OctoEverywhereError {
  if (deadline?.expired) return deadline.error(what);
  if (err instanceof OctoEverywhereError) return err;
  const code = codeOf(err);
  if (code === 'ERR_CANCELED' || axios.isCancel(err)) {
    return new NetworkError('OE_ABORTED', `${what} was cancelled.`, { kind: 'temporary' });
  }
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return new NetworkError('OE_TIMEOUT', `${what} timed out. Check the printer is online; a longer timeout may help for large transfers.`, {
      kind: 'temporary',
    });
  }
  if (code === 'ERR_BAD_RESPONSE' && (err instanceof AxiosError || err instanceof TransportError) && /maxContentLength/.test(err.message)) {
    return new NetworkError('OE_RESPONSE_TOO_LARGE', `${what} returned more data than allowed; raise the size limit or stream the response.`, {
      kind: 'permanent',
    });
  }
  if (code && UNREACHABLE.has(code)) {
    return new NetworkError('OE_UNREACHABLE', `${what} could not connect (${code}).`, { kind: 'temporary' });
  }
  const known = typeof code === 'string' && /^[A-Z_]+$/.test(code) ? ` (${code})` : '';
  return new NetworkError('OE_NETWORK', `${what} failed on the network${known}.`, { kind: 'temporary' });
}

/** Our error for an address that did not accept the connection (see networkError). */
export function isUnreachable(err: unknown): boolean {
  return err instanceof NetworkError && err.code === 'OE_UNREACHABLE';
}

/**
 * A kept-alive socket the far side closed just as it was reused: the request never reached the
 * printer, so an idempotent one may be sent once more on a fresh socket.
 */
export function isStaleSocket(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'ECONNRESET' || code === 'EPIPE';
}
