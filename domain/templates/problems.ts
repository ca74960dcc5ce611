/** What is wrong with a template, found when it is saved: the version is refused. */
export interface TemplateProblem {
  channel: string;
  field: string;
  line?: number;
  column?: number;
  message: string;
}

export const TEMPLATE_WARNING_CODES = [
  'missing_variable',
  'locale_fallback',
  'missing_translation',
  'sms_segments',
  'too_long',
  'unknown_partial',
] as const;
export type TemplateWarningCode = (typeof TEMPLATE_WARNING_CODES)[number];

/** Something a preview (or a send) should tell the author but that does not stop the message. */
export interface TemplateWarning {
  code: TemplateWarningCode;
  message: string;
  channel?: string;
  field?: string;
}

export interface TemplateErrorLocation {
  channel?: string;
  field?: string;
  line?: number;
  column?: number;
  /** The key of a partial or layout the template names but the sources lack. */
  unknownPartial?: string;
}

/**
 * A template that cannot be rendered for this message. The same template, data and sources fail the
 * same way every time, so a send that hits it must fail for good, never be retried.
 */
export class TemplateRenderError extends Error {
  override readonly name = 'TemplateRenderError';
  readonly reason: string;
  readonly channel?: string;
  readonly field?: string;
  readonly line?: number;
  readonly column?: number;
  readonly unknownPartial?: string;

  constructor(reason: string, location: TemplateErrorLocation = {}) {
    super(describe(reason, location));
    this.reason = reason;
    this.channel = location.channel;
    this.field = location.field;
    this.line = location.line;
    this.column = location.column;
    this.unknownPartial = location.unknownPartial;
  }

  /** The details a copy of this error needs, as plain data (for crossing a thread boundary). */
  toJSON(): { reason: string } & TemplateErrorLocation {
    const { reason, channel, field, line, column, unknownPartial } = this;
    return { reason, channel, field, line, column, unknownPartial };
  }
}

function describe(reason: string, { channel, field, line, column }: TemplateErrorLocation): string {
  // Without a field the reason names what it is about ("the template has no sms body").
  const where = field === undefined ? '' : [channel, field].filter(Boolean).join(' ');
  const position = line === undefined ? '' : ` (line ${line}${column === undefined ? '' : `, column ${column}`})`;
  return where ? `${where}: ${reason}${position}` : `${reason}${position}`;
}
