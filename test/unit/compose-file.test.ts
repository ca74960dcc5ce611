import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const root = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  entrypoint?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
}

/** docker-compose.yml as Compose reads it, anchors resolved. */
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

describe('docker-compose.yml', () => {
  it('is valid by docker-compose itself', () => {
    const dockerCompose = execFileSync(
      'bash',
      [path.join(root, 'scripts/install-debian-tool.sh'), 'docker-compose', 'docker-compose', 'DOCKER_COMPOSE'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    ).trim();
    // Throws, with docker-compose's complaint, on an invalid file.
    execFileSync(dockerCompose, ['-f', path.join(root, 'docker-compose.yml'), 'config', '-q'], { stdio: 'pipe' });
  });

  it('runs the Temporal server and its admin tools at the version the project tests with', () => {
    const tested = /TEMPORAL_SERVER_VERSION:-v([0-9.]+)/.exec(read('scripts/temporal-cluster.sh'))![1];
    expect(services.temporal!.image).toBe(`temporalio/server:${tested}`);
    expect(services['temporal-setup']!.image).toBe(`temporalio/admin-tools:${tested}`);
    expect(services['temporal-namespace']!.image).toBe(`temporalio/admin-tools:${tested}`);
    expect(Object.values(services).map((s) => s.image ?? '')).not.toContainEqual(expect.stringContaining('auto-setup'));
  });

  it('starts Herald from the compiled build once its schema, Temporal and Redis are ready', () => {
    for (const entry of ['api', 'worker', 'migrate']) {
      expect(services[entry]!.command).toEqual(['node', `dist/main/${entry}.js`]);
      expect(existsSync(path.join(root, 'main', `${entry}.ts`))).toBe(true);
    }
    for (const name of ['api', 'worker'])
      expect(services[name]!.depends_on).toEqual({
        redis: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
        'temporal-namespace': { condition: 'service_completed_successfully' },
      });
    expect(services.temporal!.depends_on).toEqual({
      'temporal-setup': { condition: 'service_completed_successfully' },
    });
  });

  it('checks the health of every long-running service and mounts only files that exist', () => {
    // The one-shot jobs exit when done; nothing waits on the UI.
    const unchecked = new Set(['temporal-setup', 'temporal-namespace', 'migrate', 'temporal-ui']);
    const withoutHealthcheck = Object.entries(services)
      .filter(([name, service]) => !unchecked.has(name) && !service.healthcheck?.test.length)
      .map(([name]) => name);
    expect(withoutHealthcheck).toEqual([]);
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgresql', 'redis', 'temporal', 'api', 'worker']));
    const mounted = Object.values(services)
      .flatMap((s) => s.volumes ?? [])
      .filter((v) => v.startsWith('./'));
    expect(mounted.length).toBeGreaterThan(0);
    for (const volume of mounted) expect(existsSync(path.join(root, volume.split(':')[0]!))).toBe(true);
  });

  it('builds the image that runs the compiled build without dev dependencies', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/CMD \["node", "dist\/main\/api\.js"\]/);
    expect(dockerfile).not.toMatch(/tsx|scripts\/start\.mjs/);
  });
});
