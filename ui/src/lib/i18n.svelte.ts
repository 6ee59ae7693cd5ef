// The current UI language as reactive state, and `t` to read messages in it.
import type {
  AppointmentStatus,
  CallOutcome,
  Failure,
  Language,
  PaymentMethod,
  ProbeKind,
  ProblemKind,
} from './generated/types';
import {
  errorText,
  failureLabels,
  format,
  importProblemText,
  messages,
  methodLabels,
  outcomeLabels,
  probeKindLabels,
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

export function errorFor(code: string): ErrorText {
  return errorText(locale.lang, code);
}

export function problemText(problem: ProblemKind): string {
  return importProblemText(locale.lang, problem);
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
