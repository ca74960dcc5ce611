import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { registry } from '../../observability/metrics';

const ops = path.resolve(__dirname, '../../ops');
const read = (file: string) => readFileSync(path.join(ops, file), 'utf8');
const known = new Set(registry.getMetricsAsArray().map((m) => m.name));

/** Every herald_* series an expression names must be one Herald exports (histograms add suffixes). */
function unknownMetrics(expressions: string[]): string[] {
  const names = expressions.flatMap((e) => e.match(/herald_[a-z0-9_]+/g) ?? []);
  return names.map((n) => n.replace(/_(bucket|count|sum)$/, '')).filter((n) => !known.has(n));
}

describe('operations config', () => {
  it('alert rules are well formed and watch metrics Herald exports', () => {
    const { groups } = parse(read('prometheus/alerts.yml')) as {
      groups: { rules: { alert: string; expr: string; for?: string }[] }[];
    };
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'HeraldDeliveryFailureRateHigh',
        'HeraldDeadLettersGrowing',
        'HeraldProviderCircuitOpen',
        'HeraldHighPriorityBacklog',
        'HeraldNormalPriorityBacklog',
        'HeraldLowPriorityBacklog',
      ]),
    );
    expect(unknownMetrics(rules.map((r) => r.expr))).toEqual([]);
  });

  it('the Grafana dashboard charts metrics Herald exports', () => {
    const dashboard = JSON.parse(read('grafana/dashboards/herald.json')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const expressions = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(expressions.length).toBeGreaterThan(5);
    expect(unknownMetrics(expressions)).toEqual([]);
  });

  it('Prometheus scrapes the API, the worker and the Temporal SDK', () => {
    const config = parse(read('prometheus/prometheus.yml')) as { scrape_configs: { job_name: string }[] };
    expect(config.scrape_configs.map((c) => c.job_name)).toEqual(['herald-api', 'herald-worker', 'temporal-sdk']);
  });

  it("the compose stack's worker serves metrics on the ports Prometheus scrapes (they are off unless set)", () => {
    const config = parse(read('prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const target = (job: string) =>
      config.scrape_configs.find((c) => c.job_name === job)!.static_configs[0]!.targets[0];
    const compose = parse(readFileSync(path.join(ops, '../docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: { worker: { environment: Record<string, string> } };
    };
    const env = compose.services.worker.environment;
    expect(env.DATABASE_URL).toBeDefined();
    expect(target('herald-worker')).toBe(`worker:${env.HERALD_WORKER_METRICS_ADDRESS!.split(':')[1]}`);
    expect(target('temporal-sdk')).toBe(`worker:${env.HERALD_SDK_METRICS_ADDRESS!.split(':')[1]}`);
  });
});
