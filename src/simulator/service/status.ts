// The service's status codes in one table (docs/octoeverywhere.md §8), and how a refusal goes on the wire.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  600: 'Unknown Server Error',
  601: 'Printer Not Connected',
  602: 'Plugin Connection Timeout',
  603: 'App Connection Not Found',
  604: 'App Connection Revoked',
  605: 'Owner Lost Supporter Perks',
  606: 'Invalid App Connection Credentials',
  607: 'Download Exceeds Account Limit',
  608: 'Upload Exceeds Account Limit',
  609: 'Webcam Viewed Too Many Times',
  610: 'Plugin Update Required',
  611: 'No Beta Access',
  612: 'Plugin Error',
  613: 'No Active Print',
};

export const statusText = (code: number): string => STATUS_TEXT[code] ?? STATUS_CODES[code] ?? 'Error';

/** The relay's refusal: the code as the HTTP status; the body shape is unverified, this one is small JSON. */
export function sendStatus(res: ServerResponse, code: number, closeConnection = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ Status: code, Error: statusText(code) });
  res.writeHead(code, statusText(code), {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(closeConnection ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/** The same refusal on a raw socket, for a WebSocket handshake that is not accepted. */
export function rejectUpgrade(socket: Duplex, code: number): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ Status: code, Error: statusText(code) });
  socket.end(
    `HTTP/1.1 ${code} ${statusText(code)}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
