/**
 * The admin CLI: tenants, their limits and their API keys, through a running Herald's admin API.
 *   npm run admin -- help
 * Finds Herald at HERALD_URL (else http://localhost:$PORT) and the token in HERALD_ADMIN_TOKEN, or in
 * the data folder where `npm start` keeps the one it made.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = `usage: npm run admin -- <command> [options]
  tenants create <id> [--name N] [--rate R] [--burst B] [--daily-quota Q]
  tenants list
  tenants show <id>
  tenants limits <id> [--rate R|default] [--burst B|default] [--daily-quota Q|default]
  keys create <tenant> [--name N] [--scopes send,read,admin]
  keys list <tenant>
  keys revoke <tenant> <key-id>
options: --json prints the API's answer as it is`;

class UsageError extends Error {}

function adminToken(): string {
  if (process.env.HERALD_ADMIN_TOKEN) return process.env.HERALD_ADMIN_TOKEN;
  const file = path.join(process.env.HERALD_DATA_DIR ?? '.herald', 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new Error('No admin token: set HERALD_ADMIN_TOKEN (npm start makes one in .herald/admin-token)');
}

async function call(method: string, route: string, body?: unknown): Promise<unknown> {
  const base = process.env.HERALD_URL ?? `http://localhost:${process.env.PORT ?? 8080}`;
  let response: Response;
  try {
    response = await fetch(`${base.replace(/\/+$/, '')}/admin${route}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new Error(`Herald is not answering at ${base}: ${(error as Error).message}`);
  }
  const text = await response.text();
  const json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  if (!response.ok) throw new Error(`${response.status} ${String(json?.detail ?? json?.title ?? text)}`);
  return json;
}

/** A limit option: a number, `default` (null) to fall back to the configured default, or absent. */
function limit(value: string | undefined, name: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'default') return null;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} takes a whole number or "default"`);
  return Number(value);
}

type Limits = { rate_per_second: number | null; burst: number | null; daily_quota: number | null };
type Tenant = Limits & { id: string; name: string };
type Key = { id: string; key?: string; name: string; scopes: string[]; revoked_at?: string };

const orDefault = (v: number | null) => (v === null ? 'default' : String(v));
const describeTenant = (t: Tenant) =>
  `${t.id}  "${t.name}"  rate ${orDefault(t.rate_per_second)}/s  burst ${orDefault(t.burst)}  daily quota ${orDefault(t.daily_quota)}`;
const describeKey = (k: Key) =>
  `${k.id}  ${k.name}  [${k.scopes.join(',')}]${k.revoked_at ? `  revoked ${k.revoked_at}` : ''}`;

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      rate: { type: 'string' },
      burst: { type: 'string' },
      'daily-quota': { type: 'string' },
      scopes: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const [noun, verb, first, second] = positionals;
  const limits = {
    rate_per_second: limit(values.rate, 'rate'),
    burst: limit(values.burst, 'burst'),
    daily_quota: limit(values['daily-quota'], 'daily-quota'),
  };
  const need = (value: string | undefined, what: string) => {
    if (!value) throw new UsageError(`${noun} ${verb} needs ${what}`);
    return encodeURIComponent(value);
  };
  const print = (answer: unknown, human: () => string) =>
    console.log(values.json ? JSON.stringify(answer, null, 2) : human());

  switch (`${noun} ${verb}`) {
    case 'tenants create': {
      const answer = (await call('POST', '/tenants', { id: first, name: values.name, ...limits })) as {
        tenant: Tenant;
        api_key: Key;
      };
      return print(answer, () =>
        [
          `tenant ${describeTenant(answer.tenant)}`,
          `API key ${answer.api_key.key}   (${answer.api_key.id}, scopes ${answer.api_key.scopes.join(',')}; shown once)`,
        ].join('\n'),
      );
    }
    case 'tenants list': {
      const answer = (await call('GET', '/tenants')) as { tenants: Tenant[] };
      return print(answer, () => answer.tenants.map(describeTenant).join('\n') || 'no tenants');
    }
    case 'tenants show': {
      const answer = (await call('GET', `/tenants/${need(first, 'a tenant id')}`)) as Tenant;
      return print(answer, () => describeTenant(answer));
    }
    case 'tenants limits': {
      const answer = (await call('PATCH', `/tenants/${need(first, 'a tenant id')}`, limits)) as Tenant;
      return print(answer, () => describeTenant(answer));
    }
    case 'keys create': {
      const scopes = values.scopes?.split(',').map((s) => s.trim());
      const answer = (await call('POST', `/tenants/${need(first, 'a tenant id')}/keys`, {
        name: values.name,
        scopes,
      })) as Key;
      return print(
        answer,
        () => `API key ${answer.key}   (${answer.id}, scopes ${answer.scopes.join(',')}; shown once)`,
      );
    }
    case 'keys list': {
      const answer = (await call('GET', `/tenants/${need(first, 'a tenant id')}/keys`)) as { keys: Key[] };
      return print(answer, () => answer.keys.map(describeKey).join('\n') || 'no keys');
    }
    case 'keys revoke': {
      await call('DELETE', `/tenants/${need(first, 'a tenant id')}/keys/${need(second, 'a key id')}`);
      return print({ revoked: second }, () => `revoked ${second}`);
    }
    default:
      if (values.help || noun === 'help' || noun === undefined) return console.log(USAGE);
      throw new UsageError(`unknown command "${positionals.join(' ')}"`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof UsageError ? `${error.message}\n${USAGE}` : (error as Error).message);
  process.exit(error instanceof UsageError ? 2 : 1);
});
