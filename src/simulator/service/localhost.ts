// Node's resolver does not resolve *.localhost; clients of the simulator's relay hosts need this lookup.
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for http.Agent / net.connect that maps `localhost` and `*.localhost` to 127.0.0.1. */
export function localhostLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) {
    if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
    return;
  }
  dns.lookup(hostname, options, (err, address, family) => callback(err, address, family));
}

/** A keep-alive agent that reaches the simulator's relay hosts. Destroy it when done. */
export function createLocalhostAgent(options: http.AgentOptions = {}): http.Agent {
  return new http.Agent({ keepAlive: true, ...options, lookup: localhostLookup });
}
