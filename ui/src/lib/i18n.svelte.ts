// The current UI language as reactive state, and `t` to read messages in it.
import type {
  AppointmentStatus,
  AuditProblem,
  CallOutcome,
  Failure,
  Language,
  OpAction,
  OpKind,
  OpState,
  PaymentMethod,
  ProbeKind,
  ProblemKind,
  Field,
} from './generated/types';
import {
  auditProblemText,
  errorText,
  failureLabels,
  format,
  importProblemText,
  orcaReason,
  fieldLabel,
  messages,
  methodLabels,
  opActionLabels,
  opKindLabels,
  opStateLabels,
  outcomeLabels,
  probeKindLabels,
  resolutionLabels,
  statusLabels,
  type ErrorText,
  type MessageKey,
} from './messages';
import { initialLanguage } from './format';

export const locale = $state<{ lang: Language }>({
  lang: initialLanguage(window.__TSUNAGI_LANG__, navigator.language),
});

export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  return format(messages[locale.lang][key], vars);
}

export function statusLabel(status: AppointmentStatus): string {
  return statusLabels[locale.lang][status];
}

/** A status code that arrives as plain text (a conflict's sides): its label, else the code. */
export function statusCodeLabel(code: string): string {
  const labels: Record<string, string> = statusLabels[locale.lang];
  return Object.hasOwn(labels, code) ? (labels[code] ?? code) : code;
}

export function errorFor(code: string): ErrorText {
  return errorText(locale.lang, code);
}

/** ORCA's reason for a refusal, in the desk's language; null for other errors. */
export function orcaReasonOf(message: string | undefined): string | null {
  return message ? orcaReason(locale.lang, message) : null;
}

export function problemText(problem: ProblemKind): string {
  return importProblemText(locale.lang, problem);
}

export function csvFieldLabel(field: Field): string {
  return fieldLabel(locale.lang, field);
}

export function auditProblemLabel(problem: AuditProblem): string {
  return auditProblemText(locale.lang, problem);
}

export function probeKindLabel(kind: ProbeKind): string {
  return probeKindLabels[locale.lang][kind];
}

export function failureLabel(failure: Failure): string {
  return failureLabels[locale.lang][failure];
}

export function outcomeLabel(outcome: CallOutcome): string {
  return outcomeLabels[locale.lang][outcome];
}

export function methodLabel(method: PaymentMethod): string {
  return methodLabels[locale.lang][method];
}

export function opKindLabel(kind: OpKind): string {
  return opKindLabels[locale.lang][kind];
}

export function opStateLabel(state: OpState): string {
  return opStateLabels[locale.lang][state];
}

export function opActionLabel(action: OpAction): string {
  return opActionLabels[locale.lang][action];
}

/** A resolution code's words; an unknown code shows as it is. */
/** An upstream as the backend names it (`demo`, `csv`, or a server's base URL) in words. */
export function upstreamLabel(name: string): string {
  if (name === 'demo') return t('sourceDemo');
  if (name === 'csv') return t('sourceCsv');
  return name;
}

export function resolutionLabel(code: string): string {
  const labels: Record<string, string> = resolutionLabels[locale.lang];
  return Object.hasOwn(labels, code) ? (labels[code] ?? code) : code;
}
