import { loadConfig } from '../../runtime/config';

describe('loadConfig', () => {
  it('runs on defaults with no variables set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      taskQueue: 'herald',
      receiptWindowMs: 3_600_000,
      databaseUrl: undefined,
    });
    expect(config.temporal).toMatchObject({ address: undefined, namespace: 'default', uiPort: 8233 });
  });
  it('names every bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'not a url' })).toThrow(
      /PORT[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*PORT/,
    );
  });
  it('treats an empty variable as unset', () => {
    expect(loadConfig({ SMTP_URL: '', DATABASE_URL: '' })).toMatchObject({
      smtpUrl: undefined,
      databaseUrl: undefined,
    });
  });
});
