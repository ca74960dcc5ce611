import { condition, continueAsNew, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { BOOKKEEPING } from '../domain/delivery-policy';
import { stopExperimentSignal } from './definitions';

const { evaluateExperiment } = proxyActivities<Activities>(BOOKKEEPING);

/** Looks one run makes before it carries on as a new run, keeping its history short. */
const LOOKS_PER_RUN = 500;

export interface ExperimentInput {
  tenantId: string;
  experimentId: string;
  /** How often it looks at the counts. */
  evaluateEveryMs: number;
  /** When it ends without a winner, if it runs that long. */
  endsAt?: string;
}

/**
 * Evaluates an experiment on a schedule until it decides, is stopped or reaches its end. The counts live in
 * the database, not in this history; each look is valid however many there are (sequential statistics).
 */
export async function experimentWorkflow(input: ExperimentInput): Promise<string> {
  let stopping = false;
  setHandler(stopExperimentSignal, () => void (stopping = true));
  for (let look = 0; look < LOOKS_PER_RUN || stopping; look++) {
    await condition(() => stopping, input.evaluateEveryMs);
    const ending = stopping || (input.endsAt !== undefined && Date.now() >= Date.parse(input.endsAt));
    const { state } = await evaluateExperiment({ tenantId: input.tenantId, experimentId: input.experimentId, ending });
    if (state !== 'running') return state;
  }
  return continueAsNew<typeof experimentWorkflow>(input);
}
