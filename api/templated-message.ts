import type { Database } from '../db/connect';
import { runningExperiment } from '../db/experiments';
import { findTemplateSettings } from '../db/tenants';
import type { Channel } from '../domain/channels';
import type { Contact, Message, TemplateRef } from '../domain/notification';
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
  const [experiment, settings] = await Promise.all([
    runningExperiment(db, tenantId, key),
    findTemplateSettings(db, tenantId),
  ]);
  const pin = await pinTemplate(db, tenantId, key, experiment?.variants[0]?.version, 'template', {
    alsoVersions: experiment?.variants.map((v) => v.version) ?? [],
    channels: request.channels,
  });
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
