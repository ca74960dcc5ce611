import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export const tracer = trace.getTracer('herald');

export interface Tracing {
  resource: Resource;
  /** Every span processor in one: workflow spans reach them through a sink. */
  spanProcessor: SpanProcessor;
  /** Spans leave the process (an OTLP endpoint, or a processor a test added). */
  exported: boolean;
  shutdown(): Promise<void>;
}

/**
 * Spans are always made, so trace ids tie logs and responses together; they leave the process only
 * when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT), or to processors a test adds.
 */
export function startTracing(options: {
  serviceName: string;
  otlpEndpoint?: string;
  processors?: SpanProcessor[];
}): Tracing {
  const resource = new Resource({ 'service.name': options.serviceName });
  const spanProcessors = [...(options.processors ?? [])];
  if (options.otlpEndpoint) {
    spanProcessors.push(
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces` })),
    );
  }
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  provider.register();
  return {
    resource,
    spanProcessor: provider.getActiveSpanProcessor(),
    exported: spanProcessors.length > 0,
    shutdown: () => provider.shutdown(),
  };
}

/** Runs `fn` in a client span for a call to an external provider, recording its failure. */
export function inProviderSpan<T>(name: string, attributes: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A server span for an incoming request, continuing the caller's trace when it sent `traceparent`. */
export function startServerSpan(
  name: string,
  headers: Record<string, unknown>,
): { span: Span; run: <T>(fn: () => T) => T } {
  const parent = propagation.extract(context.active(), headers);
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
  const active = trace.setSpan(parent, span);
  return { span, run: (fn) => context.with(active, fn) };
}

/** The active trace as W3C headers, so work picked up later from a queue joins it. */
export function traceCarrier(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Runs `fn` in the trace a carrier brought; in the current one when there is none. */
export function inCarriedTrace<T>(carrier: Record<string, string> | null | undefined, fn: () => T): T {
  return carrier ? context.with(propagation.extract(context.active(), carrier), fn) : fn();
}
