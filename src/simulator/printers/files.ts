// The printer's storage, in memory: gcode files to print, config and logs, addressed by the
// command API's virtual paths (`gcode/benchy.gcode`) and shown with each platform's own paths.
import type { PrinterKind } from '../contract';

export type FileRoot = 'gcode' | 'config' | 'logs';
export const FILE_ROOTS: readonly FileRoot[] = ['gcode', 'config', 'logs'];

export interface StoredFile {
  root: FileRoot;
  /** Path below the root, '/'-separated, no leading slash. */
  rel: string;
  data: Buffer;
  modifiedMs: number;
}

/** The file's entry as the command API shows it (wire names). */
export interface FileInfo {
  Name: string;
  VirtualPath: string;
  PlatformPath: string;
  SizeBytes: number;
  ModifiedSec: number;
}

/** Where each platform keeps each root; the platform path the plugin reports. */
const PLATFORM_ROOTS: Record<PrinterKind, Record<FileRoot, string>> = {
  octoprint: { gcode: 'local/', config: 'config/', logs: 'logs/' },
  moonraker: { gcode: 'gcodes/', config: 'config/', logs: 'logs/' },
  bambu: { gcode: '/sdcard/', config: '/config/', logs: '/logs/' },
  'elegoo-cc2': { gcode: '/local/', config: '/config/', logs: '/logs/' },
};

export class FileStore {
  private readonly files = new Map<string, StoredFile>();

  constructor(
    private readonly kind: PrinterKind,
    private readonly now: () => number,
  ) {}

  /**
   * Splits a virtual path into root and relative path. A path with no known root is under gcode/,
   * so `benchy.gcode` and `gcode/benchy.gcode` name the same file. Undefined when it is unusable.
   */
  static parse(virtualPath: string): { root: FileRoot; rel: string } | undefined {
    const parts = virtualPath
      .replace(/\\/g, '/')
      .split('/')
      .filter((p) => p !== '' && p !== '.');
    if (parts.some((p) => p === '..')) return undefined;
    const root = FILE_ROOTS.find((r) => r === parts[0]?.toLowerCase());
    const rel = (root ? parts.slice(1) : parts).join('/');
    return { root: root ?? 'gcode', rel };
  }

  put(root: FileRoot, rel: string, data: Buffer): StoredFile {
    const file = { root, rel, data, modifiedMs: this.now() };
    this.files.set(`${root}/${rel}`, file);
    return file;
  }

  get(root: FileRoot, rel: string): StoredFile | undefined {
    return this.files.get(`${root}/${rel}`);
  }

  delete(root: FileRoot, rel: string): boolean {
    return this.files.delete(`${root}/${rel}`);
  }

  /** Files under a root, optionally below a folder of it. */
  list(root: FileRoot, folder = ''): StoredFile[] {
    const prefix = folder === '' ? '' : `${folder.replace(/\/+$/, '')}/`;
    return [...this.files.values()].filter((f) => f.root === root && f.rel.startsWith(prefix));
  }

  info(file: StoredFile): FileInfo {
    return {
      Name: file.rel.split('/').pop() ?? file.rel,
      VirtualPath: `${file.root}/${file.rel}`,
      PlatformPath: `${PLATFORM_ROOTS[this.kind][file.root]}${file.rel}`,
      SizeBytes: file.data.length,
      ModifiedSec: Math.floor(file.modifiedMs / 1000),
    };
  }

  /** Paths of a would-be file (for start and upload answers). */
  paths(root: FileRoot, rel: string): { VirtualPath: string; PlatformPath: string } {
    return { VirtualPath: `${root}/${rel}`, PlatformPath: `${PLATFORM_ROOTS[this.kind][root]}${rel}` };
  }
}

/** What a fresh printer has on its storage. */
export function seedFiles(store: FileStore, kind: PrinterKind): void {
  const gcode = (name: string, minutes: number): Buffer =>
    Buffer.from(`; ${name}\n; estimated printing time: ${minutes}m\nG28\nG1 Z0.2 F3000\nG1 X10 Y10 E1\nM104 S0\nM140 S0\n`);
  store.put('gcode', 'benchy.gcode', gcode('3DBenchy', 120));
  store.put('gcode', 'calibration-cube.gcode', gcode('Calibration cube', 25));
  if (kind === 'moonraker') store.put('config', 'printer.cfg', Buffer.from('[printer]\nkinematics: corexy\n'));
  store.put('logs', 'octoeverywhere.log', Buffer.from('INFO OctoEverywhere plugin started\n'));
}
