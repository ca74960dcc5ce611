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
  it('bounds each call into workflow code by 5 s unless set, and refuses no bound, naming the variable and the fix', () => {
    expect(loadConfig({}).workflowDeadlockMs).toBe(5000);
    expect(loadConfig({ HERALD_WORKFLOW_DEADLOCK_MS: '2000' }).workflowDeadlockMs).toBe(2000);
    for (const unbounded of ['0', '-1'])
      expect(() => loadConfig({ HERALD_WORKFLOW_DEADLOCK_MS: unbounded })).toThrow(
        /HERALD_WORKFLOW_DEADLOCK_MS: must be a positive number of milliseconds .*unset it for the default, 5000/,
      );
  });
  it('serves no metrics on ports of its own unless told where, and refuses an address without a port', () => {
    expect(loadConfig({})).toMatchObject({ sdkMetricsAddress: undefined, workerMetricsAddress: undefined });
    expect(loadConfig({ HERALD_SDK_METRICS_ADDRESS: '' }).sdkMetricsAddress).toBeUndefined();
    expect(loadConfig({ HERALD_WORKER_METRICS_ADDRESS: '0.0.0.0:9465' }).workerMetricsAddress).toBe('0.0.0.0:9465');
    expect(() => loadConfig({ HERALD_SDK_METRICS_ADDRESS: 'localhost' })).toThrow(
      /HERALD_SDK_METRICS_ADDRESS: must be host:port/,
    );
  });
  it('holds low-priority starts through a burst for 20 s at most unless told otherwise', () => {
    expect(loadConfig({}).burstHoldMs).toBe(20_000);
    expect(loadConfig({ HERALD_BURST_HOLD_SECONDS: '0' }).burstHoldMs).toBe(0);
    expect(() => loadConfig({ HERALD_BURST_HOLD_SECONDS: '-1' })).toThrow(/HERALD_BURST_HOLD_SECONDS/);
  });
  it('lets normal and low priority give way to high-priority work on a budget of 10 s unless told otherwise', () => {
    expect(loadConfig({}).highPriorityYieldMs).toBe(10_000);
    expect(loadConfig({ HERALD_HIGH_PRIORITY_YIELD_SECONDS: '0' }).highPriorityYieldMs).toBe(0);
    expect(() => loadConfig({ HERALD_HIGH_PRIORITY_YIELD_SECONDS: 'x' })).toThrow(/HERALD_HIGH_PRIORITY_YIELD_SECONDS/);
  });
  it('refuses an address after 20 failed authentications a minute unless told otherwise, and believes no proxy unless named', () => {
    expect(loadConfig({})).toMatchObject({ authFailuresPerMinute: 20, trustProxy: undefined });
    expect(loadConfig({ HERALD_AUTH_FAILURES_PER_MINUTE: '100', HERALD_TRUST_PROXY: '10.0.0.0/8' })).toMatchObject({
      authFailuresPerMinute: 100,
      trustProxy: '10.0.0.0/8',
    });
    expect(() => loadConfig({ HERALD_AUTH_FAILURES_PER_MINUTE: '0' })).toThrow(/HERALD_AUTH_FAILURES_PER_MINUTE/);
  });
  it('names every bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'not a url' })).toThrow(
      /PORT[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*PORT/,
    );
  });
  it('treats an empty variable as unset', () => {
    const config = loadConfig({ SMTP_URL: '', DATABASE_URL: '' });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.providers.smtpUrl).toBeUndefined();
  });
  it('configures each provider from its variables, with the callback URL built from HERALD_PUBLIC_URL', () => {
    const config = loadConfig({
      HERALD_PUBLIC_URL: 'https://herald.example.com/',
      TWILIO_ACCOUNT_SID: 'AC1',
      TWILIO_AUTH_TOKEN: 'token',
      TWILIO_FROM: '+14155550100',
      TWILIO_API_BASE_URL: 'https://api.dublin.ie1.twilio.com',
      TELEGRAM_BOT_TOKEN: '1:abc',
      HERALD_SMS_PROVIDERS: 'twilio',
    });
    expect(config.providers.twilio).toEqual({
      accountSid: 'AC1',
      authToken: 'token',
      from: '+14155550100',
      baseUrl: 'https://api.dublin.ie1.twilio.com',
      statusCallbackUrl: 'https://herald.example.com/webhook/twilio',
    });
    expect(config.providers.telegram).toEqual({ botToken: '1:abc', baseUrl: 'https://api.telegram.org' });
    expect(config.providers.order?.sms).toEqual(['twilio']);
    expect(config.providers.vonage).toBeUndefined();
  });
  it('refuses half a provider configuration, naming what is missing', () => {
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: 'AC1' })).toThrow(
      /TWILIO_AUTH_TOKEN, TWILIO_FROM: required to use Twilio/,
    );
  });
  it("reads per-channel rate limits over the configured providers' documented ones, and refuses a bad one", () => {
    const config = loadConfig({
      HERALD_RATE_LIMITS: 'sms=5, email=100',
      HERALD_CHANNEL_CONCURRENCY: 'sms=2',
      TELEGRAM_BOT_TOKEN: '1:abc',
    });
    // Telegram is configured, so its documented limit applies; voice has no provider, so no limit.
    expect(config.rateLimits).toEqual({ sms: 5, email: 100, telegram: 30, discord: 50 });
    expect(config.channelConcurrency).toEqual({ sms: 2 });
    expect(() => loadConfig({ HERALD_RATE_LIMITS: 'fax=3' })).toThrow(/HERALD_RATE_LIMITS: "fax=3"/);
    expect(() => loadConfig({ HERALD_RATE_LIMITS: 'sms=0' })).toThrow(/HERALD_RATE_LIMITS/);
  });
});
