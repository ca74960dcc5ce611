import type { Headers, WorkflowInterceptorsFactory } from '@temporalio/workflow';

/** The header in which `@temporalio/interceptors-opentelemetry` carries a trace between client, workflow and activity. */
const TRACE_HEADER = '_tracer-data';

/**
 * Passes the trace the workflow was started in on to its activities and child workflows, making no
 * spans in the sandbox: the OpenTelemetry workflow interceptors cost ≈2 MiB per cached workflow,
 * which is worth paying only when spans leave the process.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  let trace: Headers[string] | undefined;
  const carryingTrace = <T extends { headers: Headers }>(input: T): T =>
    trace && !input.headers[TRACE_HEADER] ? { ...input, headers: { ...input.headers, [TRACE_HEADER]: trace } } : input;
  return {
    inbound: [
      {
        execute(input, next) {
          trace = input.headers[TRACE_HEADER];
          return next(input);
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => next(carryingTrace(input)),
        scheduleLocalActivity: (input, next) => next(carryingTrace(input)),
        startChildWorkflowExecution: (input, next) => next(carryingTrace(input)),
      },
    ],
  };
};
