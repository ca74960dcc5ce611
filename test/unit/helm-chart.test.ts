import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

const root = path.resolve(__dirname, '../..');
const chart = path.join(root, 'deploy/helm/herald');
const ciValues = (name: string) => path.join(chart, 'ci', `${name}-values.yaml`);

type Labels = Record<string, string>;
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: EnvVar[];
  envFrom?: { secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  terminationGracePeriodSeconds?: number;
  serviceAccountName?: string;
  volumes?: {
    name: string;
    emptyDir?: object;
    secret?: { secretName: string; items?: { key: string; path: string }[] };
  }[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels; annotations?: Labels };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: { matchLabels: Labels };
    template?: { metadata: { labels: Labels; annotations?: Labels }; spec: PodSpec };
    [field: string]: unknown;
  };
}

let helm: string;
let scratch: string;
let files = 0;

// The first run on a machine without helm builds it from source, which takes minutes.
beforeAll(() => {
  helm = execFileSync('bash', [path.join(root, 'scripts/install-helm.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'herald-chart-'));
}, 15 * 60_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs helm on the chart with a values file per set, later ones over earlier ones ('minimal' and 'full' are ci/ files). */
function runHelm(command: 'template' | 'lint', ...sets: (string | object)[]) {
  const valueArgs = sets.flatMap((set) => {
    if (typeof set === 'string') return ['-f', ciValues(set)];
    const file = path.join(scratch, `values-${++files}.json`);
    writeFileSync(file, JSON.stringify(set));
    return ['-f', file];
  });
  const args =
    command === 'lint'
      ? ['lint', '--strict', chart, ...valueArgs]
      : ['template', 'herald', chart, '--namespace', 'notify', ...valueArgs];
  return spawnSync(helm, args, { encoding: 'utf8' });
}

function render(...sets: (string | object)[]): Manifest[] {
  const result = runHelm('template', ...sets);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/** helm template's complaint about values it refuses. */
function refusal(...sets: (string | object)[]): string {
  const result = runHelm('template', ...sets);
  expect(result.status).not.toBe(0);
  return result.stderr;
}

const find = (manifests: Manifest[], kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${inventory(manifests).join(', ')}`);
  return found;
};
const inventory = (manifests: Manifest[]) => manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();
const podOf = (manifests: Manifest[], kind: string, name: string) => find(manifests, kind, name).spec!.template!.spec;
const containerOf = (manifests: Manifest[], kind: string, name: string) => podOf(manifests, kind, name).containers[0]!;
const envOf = (container: Container, name: string) => container.env?.find((e) => e.name === name);
const api = (manifests: Manifest[]) => containerOf(manifests, 'Deployment', 'herald-api');
const worker = (manifests: Manifest[]) => containerOf(manifests, 'Deployment', 'herald-worker');

/** The container port a probe reaches, by name or by number. */
function probedPort(container: Container, probe: Probe | undefined): number | undefined {
  const port = probe?.httpGet?.port;
  return typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
}

describe('the Helm chart', () => {
  it("is versioned with Herald: its appVersion, and so the image tag it runs, is package.json's version", () => {
    const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    const chartYaml = parse(readFileSync(path.join(chart, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    expect(chartYaml.appVersion).toBe(version);
    expect(readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8')).toContain(`## ${version} `);
  });

  it('passes helm lint --strict with the default, the minimal and the full values', () => {
    // Lint leaves the required settings' `fail` unraised; the renders below check those.
    for (const values of [[], ['minimal'], ['full']]) {
      const result = runHelm('lint', ...values);
      expect({ values, status: result.status, output: result.stdout + result.stderr }).toMatchObject({ status: 0 });
    }
  });

  it('refuses values of the wrong type or of unknown names (values.schema.json)', () => {
    const wrongType = runHelm('lint', 'minimal', { api: { replicas: 'two' } });
    expect(wrongType.status).not.toBe(0);
    expect(wrongType.stdout + wrongType.stderr).toMatch(/replicas/);
    const misspelt = runHelm('lint', 'minimal', { workers: { replicas: 2 } });
    expect(misspelt.status).not.toBe(0);
    expect(misspelt.stdout + misspelt.stderr).toMatch(/workers/);
  });

  it('renders by default the API and the worker, their Services and budgets, the migration hook and nothing optional', () => {
    expect(inventory(render('minimal'))).toEqual([
      'Deployment/herald-api',
      'Deployment/herald-worker',
      'Job/herald-migration',
      'PodDisruptionBudget/herald-api',
      'PodDisruptionBudget/herald-worker',
      'Service/herald-api',
      'Service/herald-worker-metrics',
      'ServiceAccount/herald',
    ]);
  });

  it('adds the autoscaler, the monitoring, the ingress and the Secrets when they are asked for', () => {
    const manifests = render('full');
    expect(inventory(manifests)).toEqual(
      expect.arrayContaining([
        'Ingress/herald',
        'PrometheusRule/herald',
        'ScaledObject/herald-worker',
        'Secret/herald',
        'Secret/herald-migration',
        'ServiceMonitor/herald',
        'TriggerAuthentication/herald-temporal',
      ]),
    );
    // KEDA owns the worker's replica count once it scales it.
    expect(find(manifests, 'Deployment', 'herald-worker').spec).not.toHaveProperty('replicas');
    expect(find(manifests, 'Deployment', 'herald-api').spec!.replicas).toBe(3);
  });

  it('runs the image of the chart’s appVersion, with the commands of the compiled build', () => {
    const chartYaml = parse(readFileSync(path.join(chart, 'Chart.yaml'), 'utf8')) as Record<string, string>;
    expect(chartYaml).toMatchObject({ version: '0.2.0', appVersion: '0.2.0' });
    const manifests = render('minimal');
    for (const container of [api(manifests), worker(manifests), containerOf(manifests, 'Job', 'herald-migration')])
      expect(container.image).toBe('ghcr.io/herald-notify/herald:0.2.0');
    expect(api(manifests).command).toEqual(['node', 'dist/main/api.js']);
    expect(worker(manifests).command).toEqual(['node', 'dist/main/worker.js']);
    expect(render('minimal', { image: { tag: '0.3.0-rc.1' } }).map((m) => m.metadata.labels)).toContainEqual(
      expect.objectContaining({ 'app.kubernetes.io/version': '0.3.0-rc.1' }),
    );
  });

  it('probes the API at /healthz and /readyz with a startup probe, on the port it listens on and the Service targets', () => {
    const manifests = render('minimal', { api: { port: 8081 } });
    const container = api(manifests);
    expect(envOf(container, 'PORT')?.value).toBe('8081');
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(container.startupProbe?.httpGet?.path).toBe('/healthz');
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe])
      expect(probedPort(container, probe)).toBe(8081);
    const service = find(manifests, 'Service', 'herald-api').spec as { ports: { targetPort: string }[] };
    expect(container.ports?.find((p) => p.name === service.ports[0]!.targetPort)?.containerPort).toBe(8081);
  });

  it('probes the worker on the port HERALD_WORKER_METRICS_ADDRESS opens: alive at /metrics, ready at /readyz', () => {
    const container = worker(render('minimal', { worker: { metrics: { port: 9500, sdkPort: 9501 } } }));
    expect(envOf(container, 'HERALD_WORKER_METRICS_ADDRESS')?.value).toBe('0.0.0.0:9500');
    expect(envOf(container, 'HERALD_SDK_METRICS_ADDRESS')?.value).toBe('0.0.0.0:9501');
    expect(container.livenessProbe?.httpGet?.path).toBe('/metrics');
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    for (const probe of [container.livenessProbe, container.readinessProbe])
      expect(probedPort(container, probe)).toBe(9500);
  });

  it('gives both processes the database URL from a Secret, Temporal’s address, namespace and task queue', () => {
    const existing = render('minimal', { temporal: { namespace: 'prod', taskQueue: 'notify' } });
    for (const container of [api(existing), worker(existing)]) {
      expect(envOf(container, 'DATABASE_URL')).toEqual({
        name: 'DATABASE_URL',
        valueFrom: { secretKeyRef: { name: 'herald-database', key: 'DATABASE_URL' } },
      });
      expect(envOf(container, 'TEMPORAL_ADDRESS')?.value).toBe('temporal-frontend.temporal:7233');
      expect(envOf(container, 'TEMPORAL_NAMESPACE')?.value).toBe('prod');
      expect(envOf(container, 'HERALD_TASK_QUEUE')?.value).toBe('notify');
      expect(envOf(container, 'TEMPORAL_API_KEY')).toBeUndefined();
      expect(envOf(container, 'REDIS_URL')).toBeUndefined();
    }

    const url = 'postgres://herald:s3cret@db:5432/herald';
    const inline = render('minimal', { database: { existingSecret: '', url }, redis: { url: 'redis://cache:6379' } });
    const secret = find(inline, 'Secret', 'herald');
    expect(Buffer.from(secret.data!.DATABASE_URL!, 'base64').toString()).toBe(url);
    for (const container of [api(inline), worker(inline)]) {
      expect(envOf(container, 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
        name: 'herald',
        key: 'DATABASE_URL',
      });
      expect(envOf(container, 'REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'herald', key: 'REDIS_URL' });
    }
    const workloads = inline.filter((m) => m.kind !== 'Secret');
    expect(JSON.stringify(workloads)).not.toContain('s3cret');
  });

  it('mounts the Temporal client certificate read-only where the TEMPORAL_TLS_* paths point', () => {
    const manifests = render('minimal', {
      temporal: { tls: { existingSecret: 'temporal-mtls' }, apiKey: { existingSecret: 'temporal-key' } },
    });
    for (const name of ['herald-api', 'herald-worker']) {
      const pod = podOf(manifests, 'Deployment', name);
      const container = pod.containers[0]!;
      const volume = pod.volumes?.find((v) => v.secret?.secretName === 'temporal-mtls');
      const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
      expect(mount?.readOnly).toBe(true);
      const fileFor = (key: string) => `${mount!.mountPath}/${volume!.secret!.items!.find((i) => i.key === key)!.path}`;
      expect(envOf(container, 'TEMPORAL_TLS_CA_PATH')?.value).toBe(fileFor('ca.crt'));
      expect(envOf(container, 'TEMPORAL_TLS_CERT_PATH')?.value).toBe(fileFor('tls.crt'));
      expect(envOf(container, 'TEMPORAL_TLS_KEY_PATH')?.value).toBe(fileFor('tls.key'));
      expect(envOf(container, 'TEMPORAL_API_KEY')?.valueFrom?.secretKeyRef).toEqual({
        name: 'temporal-key',
        key: 'TEMPORAL_API_KEY',
      });
    }
    const plain = api(render('minimal'));
    expect(plain.env?.filter((e) => e.name.startsWith('TEMPORAL_TLS_'))).toEqual([]);
    expect(plain.volumeMounts?.map((m) => m.name)).toEqual(['tmp']);
  });

  it('runs every pod and container, the migration’s too, as uid 1000 without privileges on a read-only root', () => {
    const manifests = render('full');
    const pods = manifests.filter((m) => m.spec?.template?.spec).map((m) => m.spec!.template!.spec);
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const container of pod.containers) {
        expect(container.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 1000,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
      }
    }
  });

  it('gives workers a termination grace longer than the shutdown grace they drain activities in', () => {
    const graces = (values: object) => {
      const manifests = render('minimal', values);
      return {
        shutdown: Number(envOf(worker(manifests), 'HERALD_SHUTDOWN_GRACE_SECONDS')?.value),
        termination: podOf(manifests, 'Deployment', 'herald-worker').terminationGracePeriodSeconds,
      };
    };
    expect(graces({})).toEqual({ shutdown: 30, termination: 50 });
    expect(graces({ worker: { shutdownGraceSeconds: 100 } })).toEqual({ shutdown: 100, termination: 120 });
    expect(graces({ worker: { terminationGracePeriodSeconds: 31 } })).toEqual({ shutdown: 30, termination: 31 });
    // The API's grace covers its preStop pause and its own stop.
    const apiPod = podOf(render('minimal'), 'Deployment', 'herald-api');
    expect(apiPod.terminationGracePeriodSeconds).toBeGreaterThan(5 + 25);
  });

  it('refuses a termination grace at or below the shutdown grace, naming both values', () => {
    expect(refusal('minimal', { worker: { shutdownGraceSeconds: 30, terminationGracePeriodSeconds: 20 } })).toContain(
      'worker.terminationGracePeriodSeconds (20) must be longer than worker.shutdownGraceSeconds (30)',
    );
    expect(refusal('minimal', { worker: { terminationGracePeriodSeconds: 30 } })).toContain(
      'must be longer than worker.shutdownGraceSeconds (30)',
    );
    // Nor may extra env quietly set the shutdown grace behind the chart's back.
    expect(refusal('minimal', { worker: { env: { HERALD_SHUTDOWN_GRACE_SECONDS: '60' } } })).toContain(
      'worker.env.HERALD_SHUTDOWN_GRACE_SECONDS: the chart sets HERALD_SHUTDOWN_GRACE_SECONDS from worker.shutdownGraceSeconds',
    );
  });

  it('refuses a release without a database or a Temporal address, saying what to set', () => {
    expect(refusal({ temporal: { address: 'temporal:7233' } })).toContain(
      'Set database.url or database.existingSecret',
    );
    expect(refusal({ database: { url: 'postgres://db/herald' } })).toContain('Set temporal.address');
    expect(refusal('minimal', { database: { url: 'postgres://db/herald' } })).toContain(
      'Set one of database.url and database.existingSecret',
    );
  });

  it('budgets disruptions for each part only when it runs more than one pod', () => {
    const budgets = (values: object) => {
      const manifests = render('minimal', values);
      return manifests
        .filter((m) => m.kind === 'PodDisruptionBudget')
        .map((pdb) => {
          const deployment = find(manifests, 'Deployment', pdb.metadata.name);
          // The budget counts exactly the Deployment's pods.
          expect(pdb.spec!.selector!.matchLabels).toEqual(deployment.spec!.selector!.matchLabels);
          expect(deployment.spec!.template!.metadata.labels).toMatchObject(pdb.spec!.selector!.matchLabels);
          return `${pdb.metadata.name} minAvailable=${String(pdb.spec!.minAvailable)}`;
        });
    };
    expect(budgets({})).toEqual(['herald-api minAvailable=1', 'herald-worker minAvailable=1']);
    expect(budgets({ api: { replicas: 1 } })).toEqual(['herald-worker minAvailable=1']);
    expect(budgets({ worker: { podDisruptionBudget: { enabled: false } } })).toEqual(['herald-api minAvailable=1']);
    expect(budgets({ worker: { replicas: 1, autoscaling: { enabled: true, minReplicas: 2 } } })).toEqual([
      'herald-api minAvailable=1',
      'herald-worker minAvailable=1',
    ]);
  });

  it('scales workers with KEDA’s temporal scaler on every queue they poll, with their Temporal credentials', () => {
    const manifests = render('full');
    const scaled = find(manifests, 'ScaledObject', 'herald-worker').spec as {
      scaleTargetRef: { name: string };
      minReplicaCount: number;
      maxReplicaCount: number;
      triggers: { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }[];
    };
    expect(find(manifests, 'Deployment', scaled.scaleTargetRef.name).kind).toBe('Deployment');
    expect(scaled).toMatchObject({ minReplicaCount: 2, maxReplicaCount: 20 });
    expect(scaled.triggers.map((t) => t.metadata.taskQueue)).toEqual([
      'notifications',
      'notifications.email',
      'notifications.push',
      'notifications-high',
      'notifications-high.email',
      'notifications-high.push',
    ]);
    for (const trigger of scaled.triggers) {
      expect(trigger.type).toBe('temporal');
      expect(trigger.metadata).toMatchObject({
        endpoint: 'herald.a1b2c.tmprl.cloud:7233',
        namespace: 'herald.a1b2c',
        targetQueueSize: '20',
      });
      expect(trigger.authenticationRef?.name).toBe('herald-temporal');
    }
    const auth = find(manifests, 'TriggerAuthentication', 'herald-temporal').spec as {
      secretTargetRef: { parameter: string; name: string; key: string }[];
    };
    expect(auth.secretTargetRef).toEqual(
      expect.arrayContaining([
        { parameter: 'apiKey', name: 'temporal-api-key', key: 'apiKey' },
        { parameter: 'ca', name: 'temporal-client-tls', key: 'ca.crt' },
        { parameter: 'cert', name: 'temporal-client-tls', key: 'tls.crt' },
        { parameter: 'key', name: 'temporal-client-tls', key: 'tls.key' },
      ]),
    );
    const plain = render('minimal', { worker: { autoscaling: { enabled: true } } });
    expect(inventory(plain)).not.toContain('TriggerAuthentication/herald-temporal');
    const triggers = (find(plain, 'ScaledObject', 'herald-worker').spec as typeof scaled).triggers;
    // By default the queues of channels held to a provider's rate do not count: their backlog is the limit.
    expect(triggers.map((t) => t.metadata.taskQueue)).toEqual(
      ['herald', 'herald-high'].flatMap((lane) => [
        lane,
        ...['email', 'push', 'slack', 'webhook', 'in_app'].map((c) => `${lane}.${c}`),
      ]),
    );
    expect(triggers[0]!.metadata).toMatchObject({ taskQueue: 'herald', queueTypes: 'workflow,activity' });
    expect(triggers[0]!.authenticationRef).toBeUndefined();
  });

  it('refuses autoscaling over TLS that KEDA would open in plain text, and a Secret key the chart sets itself', () => {
    const caOnly = { temporal: { tls: { existingSecret: 'temporal-ca', certKey: '', keyKey: '' } } };
    expect(() => render('minimal', caOnly)).not.toThrow();
    expect(() => render('minimal', caOnly, { worker: { autoscaling: { enabled: true } } })).toThrow(
      /worker.autoscaling with temporal.tls needs a client certificate/,
    );
    expect(() =>
      render('minimal', caOnly, { worker: { autoscaling: { enabled: true } }, temporal: { apiKey: { value: 'k' } } }),
    ).not.toThrow();
    expect(() =>
      render('minimal', { secrets: { create: true, values: { DATABASE_URL: 'postgres://elsewhere/herald' } } }),
    ).toThrow(/secrets.values.DATABASE_URL: the chart sets DATABASE_URL from database/);
  });

  it('carries the alert rules of ops/prometheus/alerts.yml, unchanged, in its PrometheusRule', () => {
    const ops = parse(readFileSync(path.join(root, 'ops/prometheus/alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string }[] }[];
    };
    const rule = find(render('full'), 'PrometheusRule', 'herald').spec as typeof ops;
    const names = (groups: typeof ops.groups) => groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(names(rule.groups)).toEqual(names(ops.groups));
    expect(names(rule.groups).length).toBeGreaterThan(5);
    expect(rule.groups).toEqual(ops.groups);
  });

  it('scrapes the API’s /metrics without credentials and both worker metrics ports', () => {
    const manifests = render('full');
    const monitor = find(manifests, 'ServiceMonitor', 'herald').spec as {
      selector: { matchLabels: Labels };
      endpoints: Record<string, unknown>[];
    };
    expect(monitor.endpoints.map((e) => `${String(e.port)} ${String(e.path)}`)).toEqual([
      'http /metrics',
      'metrics /metrics',
      'sdk-metrics /metrics',
    ]);
    for (const endpoint of monitor.endpoints) {
      expect(Object.keys(endpoint)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/bearer|authorization|basicAuth/i)]),
      );
    }
    const services = manifests.filter((m) => m.kind === 'Service');
    const selected = services.filter((s) =>
      Object.entries(monitor.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v),
    );
    const ports = selected.flatMap((s) => (s.spec as { ports: { name: string }[] }).ports.map((p) => p.name));
    expect(ports.sort()).toEqual(['http', 'metrics', 'sdk-metrics']);
    expect((find(manifests, 'Service', 'herald-worker-metrics').spec as { clusterIP: string }).clusterIP).toBe('None');
  });

  it('rolls the pods when the chart’s Secret changes, and gives them the Secret through envFrom', () => {
    const checksum = (values: object) =>
      render('minimal', { secrets: { create: true, values } }).map(
        (m) => m.spec?.template?.metadata.annotations?.['checksum/secret'],
      );
    const [first] = checksum({ SENDGRID_API_KEY: 'one' }).filter(Boolean);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum({ SENDGRID_API_KEY: 'one' })).toContain(first);
    expect(checksum({ SENDGRID_API_KEY: 'two' })).not.toContain(first);

    const created = render('minimal', { secrets: { create: true, values: { TELEGRAM_BOT_TOKEN: 't' } } });
    expect(Buffer.from(find(created, 'Secret', 'herald').data!.TELEGRAM_BOT_TOKEN!, 'base64').toString()).toBe('t');
    for (const container of [api(created), worker(created)])
      expect(container.envFrom).toEqual([{ secretRef: { name: 'herald' } }]);

    const existing = render('minimal', { secrets: { existingSecret: 'herald-providers' } });
    expect(inventory(existing)).not.toContain('Secret/herald');
    for (const container of [api(existing), worker(existing)])
      expect(container.envFrom).toEqual([{ secretRef: { name: 'herald-providers' } }]);
    expect(find(existing, 'Deployment', 'herald-api').spec!.template!.metadata.annotations).toBeUndefined();
  });

  it('migrates in a pre-install and pre-upgrade hook that needs nothing the release itself creates', () => {
    const hook = (m: Manifest) => m.metadata.annotations?.['helm.sh/hook'];
    const existing = render('minimal');
    const job = find(existing, 'Job', 'herald-migration');
    expect(hook(job)).toBe('pre-install,pre-upgrade');
    expect(job.metadata.annotations?.['helm.sh/hook-delete-policy']).toContain('before-hook-creation');
    const container = job.spec!.template!.spec.containers[0]!;
    expect(container.command).toEqual(['node', 'dist/main/migrate.js']);
    expect(envOf(container, 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'herald-database',
      key: 'DATABASE_URL',
    });
    // The chart's ServiceAccount is created after pre-install hooks.
    expect(job.spec!.template!.spec.serviceAccountName).toBeUndefined();

    const inline = render('minimal', { database: { existingSecret: '', url: 'postgres://db/herald' } });
    const inlineJob = find(inline, 'Job', 'herald-migration');
    const ref = envOf(inlineJob.spec!.template!.spec.containers[0]!, 'DATABASE_URL')!.valueFrom!.secretKeyRef!;
    const secret = find(inline, 'Secret', ref.name);
    expect(hook(secret)).toBe('pre-install,pre-upgrade');
    expect(Buffer.from(secret.data![ref.key]!, 'base64').toString()).toBe('postgres://db/herald');
    const weight = (m: Manifest) => Number(m.metadata.annotations?.['helm.sh/hook-weight'] ?? 0);
    expect(weight(secret)).toBeLessThan(weight(inlineJob));

    expect(inventory(render('minimal', { migration: { enabled: false } }))).not.toContain('Job/herald-migration');
  });

  it('labels everything with the standard app.kubernetes.io labels', () => {
    const manifests = render('full');
    for (const manifest of manifests) {
      expect({ object: `${manifest.kind}/${manifest.metadata.name}`, labels: manifest.metadata.labels }).toMatchObject({
        labels: {
          'app.kubernetes.io/name': 'herald',
          'app.kubernetes.io/instance': 'herald',
          'app.kubernetes.io/version': '0.2.0',
          'app.kubernetes.io/managed-by': 'Helm',
        },
      });
    }
    for (const manifest of manifests.filter((m) => m.spec?.template)) {
      const podLabels = manifest.spec!.template!.metadata.labels;
      expect(podLabels['app.kubernetes.io/component']).toMatch(/^(api|worker|migration)$/);
      if (manifest.spec!.selector) expect(podLabels).toMatchObject(manifest.spec!.selector.matchLabels);
    }
  });
});
