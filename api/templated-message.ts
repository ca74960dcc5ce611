import type { Database } from '../db/connect';
import { runningExperiment } from '../db/experiments';
import { findTemplateVersion } from '../db/templates';
import { findTemplateSettings } from '../db/tenants';
import type { Channel } from '../domain/channels';
import type { Contact, Message, TemplateRef } from '../domain/notification';
import type { TemplateContent } from '../domain/templates/content';
import { Problem } from './problems';
import { pinTemplate } from './template-pins';

/**
 * A notification's message from a template: the version live now (or, while an experiment runs on the
 * template, its variants' versions) is pinned, so every later send renders the same. Recipients are
 * exposed when their message is sent, not here: a request refused later exposes no one.
 */
export async function templatedMessage(
  db: Database,
  tenantId: string,
  request: {
    key: string;
    data: Record<string, unknown>;
    locale?: string;
    channels: Channel[];
    recipients: Contact[];
    /** Those with an id of their own, who keep a variant; the others see the control. */
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
  if (experiment) {
    const known = new Set(request.identified.map((c) => c.id));
    const anonymous = request.recipients.filter((c) => !known.has(c.id)).map((c) => c.id);
    template.experiment = {
      id: experiment.id,
      variants: experiment.variants,
      ...(anonymous.length > 0 ? { anonymous } : {}),
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
