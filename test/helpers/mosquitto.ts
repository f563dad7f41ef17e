// A real Mosquitto for the tests that need an MQTT broker (the example flows, the two-instance
// scaling test): found on this machine, started on a free loopback port, stopped and awaited.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, tempDir } from './node-red-process';

/** CI (and OE_REQUIRE_BROKER=1) must run the MQTT tests; elsewhere they skip without mosquitto. */
export const BROKER_REQUIRED = process.env.OE_REQUIRE_BROKER === '1' || process.env.CI === 'true';

export function mosquittoPath(): string | undefined {
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/opt/homebrew/sbin/mosquitto']) {
    if (fs.existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface Broker {
  port: number;
  stop(): Promise<void>;
}

/** A real mosquitto on 127.0.0.1 and a free port, with a throw-away config and no persistence. */
export async function startMosquitto(binary: string): Promise<Broker> {
  const port = await freePort();
  const dir = tempDir('oe-mosquitto-');
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  let output = '';
  const child: ChildProcess = spawn(binary, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`mosquitto did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Node-RED's core `mqtt-broker` config node on a broker at 127.0.0.1:`port` (MQTT 3.1.1), as the editor saves one. */
export function brokerConfig(id: string, port: number, more: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    type: 'mqtt-broker',
    broker: '127.0.0.1',
    port: String(port),
    clientid: '',
    autoConnect: true,
    usetls: false,
    protocolVersion: '4',
    keepalive: '60',
    cleansession: true,
    ...more,
  };
}
