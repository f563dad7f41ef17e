// One POST route on RED.httpNode that is taken out again when the node closes, the way Node-RED's
// own `http in` node does it (21-httpin.js splices the router stack), but matched by handler
// identity so that another node's route on the same path is never the one removed. And the guard
// that goes in front of everything the app mounting httpNode runs before it (Node-RED's editor with
// its body parsers, when both share the root), removed the same way.
import type { Express, RequestHandler } from 'express';

interface Layer {
  name?: string;
  handle?: unknown;
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

/** The app httpNode is mounted in (Express sets `parent` on mount); undefined when served on its own. */
export function mountingApp(app: Express): Express | undefined {
  const parent: unknown = (app as unknown as { parent?: unknown }).parent;
  return typeof parent === 'function' && routerStack(parent as Express) ? (parent as Express) : undefined;
}

/** Where `app` is mounted from the server's root, without a trailing slash ('' at the root or unmounted). */
export function mountPath(app: Express): string {
  const a = app as unknown as { path?: () => string };
  return typeof a.path === 'function' ? a.path().replace(/\/+$/, '') : '';
}

/**
 * Puts `handler` first in `app`'s stack (after Express 4's own request setup, so the request and
 * answer have Express's methods) and returns the function that removes exactly that handler.
 */
export function addFrontMiddleware(app: Express, handler: RequestHandler): () => void {
  app.use(handler);
  const stack = routerStack(app);
  if (stack) {
    const at = stack.findIndex((layer) => layer.handle === handler);
    const [layer] = stack.splice(at, 1);
    const init = stack.findIndex((l) => l.name === 'expressInit');
    stack.splice(init + 1, 0, layer);
  }
  return () => {
    const current = routerStack(app);
    if (!current) return;
    for (let i = current.length - 1; i >= 0; i--) if (current[i].handle === handler) current.splice(i, 1);
  };
}

/**
 * A test for "this request URL reaches `fullPath`" that errs on the side of yes: the path part (of an
 * origin-form or absolute-form request target) up to `?` or `#`, trailing slashes and case ignored,
 * as Express's default routing ignores them. One string compare for any other request.
 */
export function requestPathMatcher(fullPath: string): (url: string) => boolean {
  const want = fullPath.replace(/\/+$/, '').toLowerCase();
  return (url) => {
    let start = 0;
    if (url.charCodeAt(0) !== 47 /* / */) {
      const scheme = url.indexOf('://');
      start = scheme < 0 ? -1 : url.indexOf('/', scheme + 3);
      if (start < 0) return false;
    }
    let end = url.length;
    for (let i = start; i < end; i++) {
      const c = url.charCodeAt(i);
      if (c === 63 /* ? */ || c === 35 /* # */) end = i;
    }
    while (end > start + 1 && url.charCodeAt(end - 1) === 47) end--;
    return end - start === want.length && url.slice(start, end).toLowerCase() === want;
  };
}
