// The templates' public surface: check a version when it is saved, render it for a send, preview it.
export { checkTemplate, type TemplateCheck } from './check';
export { CompiledTemplate, CompiledTemplateCache } from './compiled';
export {
  TEMPLATE_CHANNELS,
  templateReferences,
  type TemplateChannel,
  type TemplateContent,
  type Translation,
} from './content';
export { compileEmail, type CompiledEmail } from './email';
export { localeChain, missingTranslations } from './locales';
export { PREVIEW_LIMITS, previewTemplate, previewWarnings, type TemplatePreview } from './preview';
export {
  TemplateRenderError,
  type TemplateErrorLocation,
  type TemplateProblem,
  type TemplateWarning,
  type TemplateWarningCode,
} from './problems';
export {
  MAX_OUTPUT_CHARS,
  renderTemplate,
  type RenderJob,
  type RenderOutcome,
  type RenderedMessage,
} from './render-message';
