import type { Database } from '../db/connect';
import { exposeRecipients, runningExperiment } from '../db/experiments';
import { findTemplateVersion } from '../db/templates';
import { findTemplateSettings } from '../db/tenants';
import type { Channel } from '../domain/channels';
import { assignVariant } from '../domain/experiments/assignment';
import type { Contact, Message, TemplateRef } from '../domain/notification';
import type { TemplateContent } from '../domain/templates/content';
import { Problem } from './problems';
import { pinTemplate } from './template-pins';

/**
 * A notification's message from a template: the version live now (or, while an experiment runs on the
 * template, each identified recipient's variant) is pinned, so every later send renders the same.
 */
export async function templatedMessage(
  db: Database,
  tenantId: string,
  request: {
    key: string;
    data: Record<string, unknown>;
    locale?: string;
    channels: Channel[];
    identified: Contact[];
  },
): Promise<Message> {
  const { key } = request;
  const experiment = await runningExperiment(db, tenantId, key);
  const control = experiment?.variants[0];
  const pin = await pinTemplate(db, tenantId, key, control?.version, 'template', {
    alsoVersions: experiment?.variants.map((v) => v.version) ?? [],
  });
  const settings = await findTemplateSettings(db, tenantId);
  const versions = [...new Set([pin.version, ...(experiment?.variants.map((v) => v.version) ?? [])])];
  for (const version of versions) {
    const row = await findTemplateVersion(db, tenantId, key, version);
    rejectMissingBodies(key, version, row!.content, request.channels);
  }
  const template: TemplateRef = {
    ...pin,
    data: request.data,
    ...(request.locale ? { locale: request.locale } : {}),
    ...(settings.defaultLocale ? { tenantLocale: settings.defaultLocale } : {}),
    trackClicks: settings.clickTracking,
  };
  if (experiment && request.identified.length > 0) {
    const variants = await exposeRecipients(
      db,
      tenantId,
      experiment.id,
      request.identified.map((c) => ({
        recipientId: c.id,
        variant: assignVariant(experiment.id, c.id, experiment.variants),
      })),
    );
    const versionOf = new Map(experiment.variants.map((v) => [v.name, v.version]));
    template.experiment = {
      id: experiment.id,
      assignments: Object.fromEntries(
        [...variants].map(([recipientId, variant]) => [recipientId, { variant, version: versionOf.get(variant)! }]),
      ),
    };
  }
  return { text: '', template };
}

function rejectMissingBodies(key: string, version: number, content: TemplateContent, channels: Channel[]): void {
  for (const channel of new Set(channels)) {
    if (content[channel] === undefined) {
      throw new Problem(
        422,
        'Template lacks a channel',
        `Template ${key} (version ${version}) has no ${channel} body: add one, or leave ${channel} out`,
        'channels',
      );
    }
  }
}
