import type { FastifyInstance } from 'fastify';

/**
 * Which methods each route path takes, so a request with another method on a known path is answered
 * 405 with an `Allow` header rather than 404. Call before routes are registered.
 */
export function trackAllowedMethods(app: FastifyInstance): (path: string) => string[] {
  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(
      `^${route.url
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/:[^/]+/g, '[^/]+')
        .replace(/\*/g, '.*')}$`,
    );
    const methods = ([] as string[]).concat(route.method).filter((m) => m !== 'HEAD');
    const known = routes.find((r) => r.pattern.source === pattern.source);
    if (known) methods.forEach((m) => known.methods.add(m));
    else routes.push({ pattern, methods: new Set(methods) });
  });
  return (path) => [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => [...r.methods]))].sort();
}
