// Finding a printer's OctoEverywhere Printer ID on the LAN (docs/octoeverywhere.md §6), to preselect it in the portal.
// These requests go straight to the printer's own address and carry no OctoEverywhere credential.
import axios from 'axios';
import { Deadline } from './deadline';
import { InvalidArgumentError, OctoEverywhereError } from './errors';
import { networkError } from './network-errors';
import { baseUrlString, loopbackAwareLookup, parseLocalUrl } from './urls';
import { isObject } from './values';

export interface PrinterIdResult {
  printerId: string;
  platform: 'octoprint' | 'moonraker';
  pluginVersion?: string;
}

const PRINTER_ID = /^[A-Za-z0-9]{40,60}$/;

/** Asks the printer at `localUrl` for its Printer ID: OctoPrint's plugin API first, then Moonraker's database. */
export async function findPrinterId(localUrl: string, options: { timeoutMs?: number } = {}): Promise<PrinterIdResult> {
  const base = parseLocalUrl(localUrl);
  if (!base) throw new InvalidArgumentError("The printer's local URL is missing.", 'OE_MISSING_URL');
  // Without a trailing slash: a bare origin's pathname is '/', which would make every path start with '//'.
  const root = baseUrlString(base);
  // One deadline for both questions (axios's `timeout` is a socket idle timeout: a dribbling answer never ended).
  const deadline = new Deadline(options.timeoutMs ?? 5000);
  const client = axios.create({
    signal: deadline.signal,
    validateStatus: () => true,
    maxRedirects: 0,
    proxy: false,
    lookup: loopbackAwareLookup,
    maxContentLength: 64 * 1024,
  } as Parameters<typeof axios.create>[0]);
  const get = async (path: string): Promise<{ status: number; data: unknown }> => {
    try {
      const res = await client.get(`${root}${path}`, { responseType: 'json' });
      return { status: res.status, data: res.data };
    } catch (err) {
      throw networkError(err, 'Asking the printer for its Printer ID', deadline);
    }
  };
  try {
    return await ask(get);
  } finally {
    deadline.release();
  }
}

/** The two questions, in order: OctoPrint's plugin API, then Moonraker's database. */
async function ask(get: (path: string) => Promise<{ status: number; data: unknown }>): Promise<PrinterIdResult> {
  const octo = await get('/api/plugin/octoeverywhere');
  if (octo.status === 200 && isObject(octo.data) && typeof octo.data.PrinterId === 'string' && PRINTER_ID.test(octo.data.PrinterId)) {
    return {
      printerId: octo.data.PrinterId,
      platform: 'octoprint',
      pluginVersion: typeof octo.data.PluginVersion === 'string' ? octo.data.PluginVersion : undefined,
    };
  }
  const moon = await get('/server/database/item?namespace=octoeverywhere&key=public.printerId');
  const value = isObject(moon.data) && isObject(moon.data.result) ? moon.data.result.value : undefined;
  if (moon.status === 200 && typeof value === 'string' && PRINTER_ID.test(value)) {
    return { printerId: value, platform: 'moonraker' };
  }
  throw new OctoEverywhereError(
    'OE_PRINTER_ID_NOT_FOUND',
    'No OctoEverywhere Printer ID was found at that address: it answered neither as OctoPrint with the OctoEverywhere plugin nor as Moonraker with OctoEverywhere installed.',
    { kind: 'permanent' },
  );
}
