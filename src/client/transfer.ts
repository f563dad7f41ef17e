// Printer requests whose body and answer move whole: uploads from a value or a local file, answers read
// into a Buffer. Within the account's transfer limits: a body the relay would refuse (608), or an answer
// it would refuse (607), fails here before its bytes move.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { PrinterLimits } from './app-api';
import { EncodedBody, encodeBody } from './body-codec';
import { type AnswerHead, type AppConnection, DEFAULT_MAX_RESPONSE_BYTES, type PrinterRequest, type PrinterResponse, type Route } from './connection';
import { InvalidArgumentError, NetworkError, OctoEverywhereError } from './errors';
import { type AccountLimits, accountLimits, checkDownloadSize, checkUploadSize, formatBytes, overLimit } from './limits';
import { networkError } from './network-errors';
import { PrinterTarget } from './validate';

/**
 * Transfers smaller than this skip the limit check: every account limit seen is 100 MiB or more, so an
 * Info request on the hot path of small API calls would buy nothing (and the relay enforces the limits anyway).
 */
export const LIMIT_CHECK_FLOOR_BYTES = 1024 * 1024;

export interface TransferRequest extends Omit<PrinterRequest, 'body' | 'bodyLength' | 'responseType' | 'maxResponseBytes' | 'checkAnswer'> {
  /** Object → JSON, Buffer → raw, string → text. Ignored when `file` is given. */
  body?: unknown;
  /** A local file sent as the body, streamed; its size is taken with fs.stat and checked before it is opened. */
  file?: string;
  /**
   * The one directory `file` may be in (settings `octoeverywhereFileRoot`): see localFile(). Undefined
   * or empty: any file the process can read.
   */
  fileRoot?: string;
}

/** The body to send: encoded once, or a file to open just before sending (with its size from stat). */
type Upload = { body: EncodedBody; file?: undefined } | { body?: undefined; file: { path: string; size: number } };

/**
 * Sends `req` and reads the whole answer into a Buffer. 6xx answers throw, as with `request()`; an
 * upload or download over the account's limit throws OE_608 / OE_607 without sending or reading it.
 */
export async function transfer(
  connection: AppConnection,
  req: TransferRequest,
  limits: AccountLimits = accountLimits(connection),
): Promise<PrinterResponse<Buffer>> {
  // Checked here, once, and handed to request(): nothing is opened for a request that cannot be sent.
  const target = new PrinterTarget(req.path, req.headers);
  // No file: nothing to wait for (an await per request is measurable on the hot path).
  const upload: Upload = req.file === undefined ? { body: encodeBody(req.body) } : await prepareUpload(req);
  const size = upload.body ? upload.body.length : upload.file.size;
  // The limits are the relay's: a request that may go to the LAN URL is not held to them.
  const relayOnly = req.via === 'relay' || (req.via !== 'local' && !connection.localUrl);
  if (size !== undefined && size > LIMIT_CHECK_FLOOR_BYTES && relayOnly) {
    checkUploadSize(size, await limits.get(), connection.appId);
  }
  // The route is known before sending unless the LAN URL may answer; then the bound is chosen once it has.
  const route: Route | undefined = req.via === 'local' ? 'local' : relayOnly ? 'relay' : undefined;
  if (upload.body && route !== undefined) return buffered(connection, { ...req, body: upload.body }, target, route, limits);
  return streamed(connection, req, target, upload, limits);
}

/**
 * The ordinary request: axios reads the answer into a Buffer itself, bounded by the account's download
 * limit when already known (else DEFAULT_MAX_RESPONSE_BYTES), and the declared length is checked
 * from the answer's head, before its body is read. Some 100 µs cheaper per request than a stream.
 */
async function buffered(
  connection: AppConnection,
  req: PrinterRequest,
  target: PrinterTarget,
  route: Route,
  limits: AccountLimits,
): Promise<PrinterResponse<Buffer>> {
  const bound = answerBound(route, limits.peek(), connection.appId);
  let refused: unknown;
  const checkAnswer = (head: AnswerHead): void | Promise<void> => {
    const declared = Number(head.headers['content-length'] ?? NaN);
    const check = (known: PrinterLimits | undefined): void => {
      try {
        checkDeclared(declared, head.via, known, connection.appId);
      } catch (err) {
        refused = err;
        throw err;
      }
    };
    // Only an announced large answer is worth an Info request (it never rejects); the relay enforces the limit anyway.
    if (head.via === 'relay' && declared > LIMIT_CHECK_FLOOR_BYTES) return limits.get().then(check);
    check(head.via === 'relay' ? limits.peek() : undefined);
  };
  try {
    return await connection.request<Buffer>({ ...req, responseType: 'buffer', maxResponseBytes: bound.max, checkAnswer }, target);
  } catch (err) {
    // axios's "maxContentLength exceeded": an answer without a declared length that grew past the bound.
    if (err !== refused && err instanceof OctoEverywhereError && err.code === 'OE_RESPONSE_TOO_LARGE') throw bound.tooLarge(bound.max + 1);
    throw err;
  }
}

/** File uploads, and answers whose route (and so limit) is known only once they arrive: read from axios's stream. */
async function streamed(
  connection: AppConnection,
  req: TransferRequest,
  target: PrinterTarget,
  upload: Upload,
  limits: AccountLimits,
): Promise<PrinterResponse<Buffer>> {
  // The request's one deadline, kept over reading the answer whole; also our abort handle: destroying
  // axios's answer stream alone leaves the socket busy in the pool, so a refused answer is dropped by
  // aborting the request (which destroys its socket).
  const deadline = connection.deadline(req);
  let stream: Readable | undefined;
  try {
    let body = upload.body;
    if (upload.file) {
      // Exactly the bytes stat counted: a file that grows meanwhile cannot overrun the announced length.
      const { path: file, size } = upload.file;
      if (size > 0) stream = fs.createReadStream(file, { start: 0, end: size - 1 });
      // An empty file is an empty body (a zero-length stream would go out chunked).
      body = new EncodedBody(stream ?? Buffer.alloc(0), 'application/octet-stream', size);
    }
    const res = await connection.request<Readable>({ ...req, body, responseType: 'stream', deadline }, target);
    const discard = (): void => {
      deadline.abort();
      res.body.destroy();
    };
    return { ...res, body: await readAnswer(res, limits, connection.appId, discard, deadline.signal) };
  } catch (err) {
    if (deadline.expired) throw deadline.error('The printer request');
    throw err;
  } finally {
    deadline.release();
    if (stream && !stream.destroyed) stream.destroy();
  }
}

async function prepareUpload(req: TransferRequest): Promise<Upload> {
  if (req.file === undefined) return { body: encodeBody(req.body) };
  const file = await localFile(req.file, req.fileRoot);
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new InvalidArgumentError(`The file to upload does not exist: ${path.basename(req.file)}.`, 'OE_FILE_NOT_FOUND');
    throw new InvalidArgumentError(`The file to upload cannot be read (${code ?? 'unknown error'}).`, 'OE_FILE_NOT_READABLE');
  }
  if (!stat.isFile()) throw new InvalidArgumentError('The file to upload is not a regular file.', 'OE_INVALID_FILENAME');
  return { file: { path: file, size: stat.size } };
}

/**
 * The rule for every local file the package reads or writes for a user: the path to open for `file`.
 * Without a root, `file` as given (relative to the working directory). With a root (settings
 * `octoeverywhereFileRoot`), a relative `file` is taken from the root, and the file must be inside the
 * root once every symlink is resolved (realpath): `..`, an absolute path elsewhere or a symlink that
 * points out fail with OE_FILE_OUTSIDE_ROOT, a path that is outside on its face before anything about
 * it is looked up. The resolved path is returned, so what is opened is what was checked.
 */
export async function localFile(file: unknown, root?: string): Promise<string> {
  if (typeof file !== 'string' || file.trim() === '' || file.includes('\0')) {
    throw new InvalidArgumentError('The file to upload must be given as a local file path (a non-empty string).', 'OE_INVALID_FILENAME');
  }
  if (root === undefined || root.trim() === '') return file;
  const rootPath = path.resolve(root);
  let realRoot: string;
  try {
    realRoot = await fs.promises.realpath(rootPath);
    if (!(await fs.promises.stat(realRoot)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new InvalidArgumentError(
      'The file directory set in settings.js (octoeverywhereFileRoot) does not exist or is not a directory.',
      'OE_FILE_ROOT_INVALID',
    );
  }
  const outside = (): InvalidArgumentError =>
    new InvalidArgumentError('The file is outside the directory files are confined to (octoeverywhereFileRoot in settings.js).', 'OE_FILE_OUTSIDE_ROOT');
  const candidate = path.isAbsolute(file) ? path.normalize(file) : path.join(realRoot, file);
  // An absolute path may name the root as configured (through its symlink) or as resolved.
  if (!isInside(candidate, realRoot) && !isInside(candidate, rootPath)) throw outside();
  let real: string;
  try {
    real = await fs.promises.realpath(candidate);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new InvalidArgumentError(`The file to upload does not exist: ${path.basename(file)}.`, 'OE_FILE_NOT_FOUND');
    throw new InvalidArgumentError(`The file to upload cannot be read (${code ?? 'unknown error'}).`, 'OE_FILE_NOT_READABLE');
  }
  if (!isInside(real, realRoot)) throw outside();
  return real;
}

/** Whether `target` is `dir` or below it (both absolute and normalised). */
function isInside(target: string, dir: string): boolean {
  const rel = path.relative(dir, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

interface AnswerBound {
  /** Bytes an answer may have to be read into memory. */
  max: number;
  tooLarge: (bytes: number) => OctoEverywhereError;
}

/** The bound on an answer read into memory: the account's download limit on the relay when known and smaller, else DEFAULT_MAX_RESPONSE_BYTES. */
function answerBound(via: Route, known: PrinterLimits | undefined, appId: string): AnswerBound {
  const limit = via === 'relay' ? known?.maxDownloadFileSizeBytes : undefined;
  if (limit !== undefined && limit > 0 && limit < DEFAULT_MAX_RESPONSE_BYTES) {
    return { max: limit, tooLarge: (bytes) => overLimit(607, 'A download', bytes, limit, appId) };
  }
  const max = DEFAULT_MAX_RESPONSE_BYTES;
  return {
    max,
    tooLarge: (bytes) =>
      new NetworkError(
        'OE_RESPONSE_TOO_LARGE',
        `The printer's answer is larger than ${formatBytes(max)} (${bytes} bytes or more); it is not read into memory.`,
        { kind: 'permanent' },
      ),
  };
}

/** Refuses an answer whose declared length is over the account's limit (OE_607) or the bound, before it is read; returns the bound. */
function checkDeclared(declared: number, via: Route, known: PrinterLimits | undefined, appId: string): AnswerBound {
  if (via === 'relay' && Number.isFinite(declared)) checkDownloadSize(declared, known, appId);
  const bound = answerBound(via, known, appId);
  if (Number.isFinite(declared) && declared > bound.max) throw bound.tooLarge(declared);
  return bound;
}

/** Reads the answer into a Buffer, refusing one larger than the account's download limit before reading it. */
async function readAnswer(res: PrinterResponse<Readable>, limits: AccountLimits, appId: string, discard: () => void, signal: AbortSignal): Promise<Buffer> {
  const declared = Number(res.headers['content-length'] ?? NaN);
  let bound: AnswerBound;
  try {
    const known = res.via === 'relay' ? (declared > LIMIT_CHECK_FLOOR_BYTES ? await limits.get() : limits.peek()) : undefined;
    bound = checkDeclared(declared, res.via, known, appId);
  } catch (err) {
    discard();
    throw err;
  }
  return readAll(res.body, bound.max, bound.tooLarge, discard, signal);
}

function readAll(stream: Readable, max: number, tooLarge: (bytes: number) => OctoEverywhereError, discard: () => void, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cutOff = (): void => reject(new NetworkError('OE_NETWORK', "The printer's answer was cut off before its end.", { kind: 'temporary' }));
    // Aborted (the deadline, or the caller) while the limits were looked up: the stream's events are gone.
    if (signal.aborted || stream.destroyed) {
      cutOff();
      return;
    }
    signal.addEventListener('abort', cutOff, { once: true });
    stream.once('close', () => signal.removeEventListener('abort', cutOff));
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(tooLarge(size));
        discard();
        return;
      }
      chunks.push(chunk);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks, size)));
    stream.once('error', (err) => reject(networkError(err, "Reading the printer's answer")));
    // Destroyed without an error (the connection was aborted): the answer is incomplete.
    stream.once('close', cutOff);
  });
}
