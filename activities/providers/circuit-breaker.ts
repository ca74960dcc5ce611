import CircuitBreaker from 'opossum';
import { circuitOpen } from '../../observability/metrics';
import {
  CircuitOpenError,
  PermanentProviderError,
  type OutboundMessage,
  type Provider,
  type SendResult,
} from './provider';

export interface CircuitSettings {
  /** Failure share (%) over the rolling window that opens the circuit. */
  errorThresholdPercentage: number;
  /** Sends in the window before the share counts. */
  volumeThreshold: number;
  /** How long the circuit stays open before one trial send. */
  resetTimeoutMs: number;
}

export const DEFAULT_CIRCUIT: CircuitSettings = {
  errorThresholdPercentage: 50,
  volumeThreshold: 10,
  resetTimeoutMs: 30_000,
};

/**
 * Stops calling a provider that keeps failing: while the circuit is open, sends fail at once with a
 * transient error and Temporal retries them later, instead of every worker slot waiting on a dead host.
 * Permanent rejections (a bad address) say nothing about the provider's health and are not counted.
 */
export class CircuitBreakingProvider implements Provider {
  private readonly breaker: CircuitBreaker<[OutboundMessage, AbortSignal], SendResult>;
  private openedAt = 0;
  private readonly resetTimeoutMs: number;

  constructor(
    private readonly inner: Provider,
    settings: CircuitSettings = DEFAULT_CIRCUIT,
  ) {
    this.resetTimeoutMs = settings.resetTimeoutMs;
    this.breaker = new CircuitBreaker((message: OutboundMessage, signal: AbortSignal) => inner.send(message, signal), {
      timeout: false,
      errorThresholdPercentage: settings.errorThresholdPercentage,
      volumeThreshold: settings.volumeThreshold,
      resetTimeout: settings.resetTimeoutMs,
      errorFilter: (error: unknown) => error instanceof PermanentProviderError,
    });
    const gauge = circuitOpen.labels({ provider: inner.name });
    gauge.set(0);
    this.breaker.on('open', () => {
      this.openedAt = Date.now();
      gauge.set(1);
    });
    this.breaker.on('close', () => gauge.set(0));
  }

  get name(): string {
    return this.inner.name;
  }

  get opened(): boolean {
    return this.breaker.opened;
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    try {
      return await this.breaker.fire(message, signal);
    } catch (error) {
      // Retried after the trial send, not before: tries spent while the circuit is open would use up a
      // delivery's six within the circuit's first 30 s and fail it though the provider came back.
      if ((error as { code?: string }).code === 'EOPENBREAKER')
        throw new CircuitOpenError(
          `${this.name} circuit is open after repeated failures`,
          Math.max(1000, this.openedAt + this.resetTimeoutMs - Date.now()),
        );
      throw error;
    }
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
    await this.inner.close?.();
  }
}
