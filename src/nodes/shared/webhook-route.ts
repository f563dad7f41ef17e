// One POST route on RED.httpNode that is taken out again when the node closes, the way Node-RED's
// own `http in` node does it (21-httpin.js splices the router stack), but matched by handler
// identity so that another node's route on the same path is never the one removed.
import type { Express, RequestHandler } from 'express';

interface Layer {
  route?: { path?: unknown; stack?: Array<{ handle?: unknown }> };
}

/**
 * Express 4 keeps the router as `_router` (made on first use; its `app.router` getter throws),
 * Express 5 as `router`.
 */
function routerStack(app: Express): Layer[] | undefined {
  const a = app as unknown as { lazyrouter?: unknown; _router?: { stack?: Layer[] }; router?: { stack?: Layer[] } };
  return typeof a.lazyrouter === 'function' ? a._router?.stack : a.router?.stack;
}

/** Express matches paths case-insensitively and ignores a trailing slash by default. */
function samePath(a: unknown, b: string): boolean {
  return typeof a === 'string' && a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
}

/** True when some route (any node's) already answers on `path`. */
export function routeExists(app: Express, path: string): boolean {
  return (routerStack(app) ?? []).some((layer) => samePath(layer.route?.path, path));
}

/** The routes on `path` (for tests that check nothing is left behind). */
export function routesOn(app: Express, path: string): number {
  return (routerStack(app) ?? []).filter((layer) => samePath(layer.route?.path, path)).length;
}

/** Adds `POST path` and returns the function that removes exactly that route. */
export function addPostRoute(app: Express, path: string, handler: RequestHandler): () => void {
  app.post(path, handler);
  return () => {
    const stack = routerStack(app);
    if (!stack) return;
    for (let i = stack.length - 1; i >= 0; i--) {
      if (stack[i].route?.stack?.some((layer) => layer.handle === handler)) stack.splice(i, 1);
    }
  };
}
