import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from '../../observability/tracing';

/** Spans finished in this test file, kept in memory for the tests to read. */
export const finishedSpans = new InMemorySpanExporter();

let tracing: Tracing | undefined;

export function testTracing(): Tracing {
  tracing ??= startTracing({ serviceName: 'herald-test', processors: [new SimpleSpanProcessor(finishedSpans)] });
  return tracing;
}
