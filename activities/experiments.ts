import { insertAuditEvent } from '../db/audit-events';
import type { Database } from '../db/connect';
import { findExperiment, saveEvaluation, variantCounts } from '../db/experiments';
import { publishTemplateVersion } from '../db/templates';
import { evaluateExperiment as decide } from '../domain/experiments/decision';
import { evaluationInput } from '../domain/experiments/experiment';
import { inTenant } from '../db/tenant-scope';

/** The experiment's scheduled look: evaluates the counts, and when a variant wins, makes it live. */
export function createExperimentActivities(db: Database) {
  return {
    async evaluateExperiment(input: {
      tenantId: string;
      experimentId: string;
      ending: boolean;
    }): Promise<{ state: string }> {
      const { tenantId, experimentId } = input;
      return inTenant(db, tenantId, async (tx) => {
        const experiment = await findExperiment(tx, tenantId, experimentId);
        if (!experiment) return { state: 'gone' };
        if (experiment.state !== 'running') return { state: experiment.state };
        const result = decide(
          evaluationInput(experiment, await variantCounts(tx, tenantId, experimentId), new Date(), input.ending),
        );
        const ended = result.state !== 'running';
        await saveEvaluation(tx, tenantId, experimentId, { state: result.state, result, ended });
        if (!ended) return { state: 'running' };
        const winner = result.winner && experiment.variants.find((v) => v.name === result.winner);
        if (winner) await publishTemplateVersion(tx, tenantId, experiment.templateKey, winner.version);
        await insertAuditEvent(tx, {
          tenantId,
          actor: 'experiment',
          action: 'experiment.decided',
          target: winner ? `${experiment.templateKey}@${winner.version}` : experimentId,
          detail: result.reason,
        });
        return { state: result.state };
      });
    },
  };
}
