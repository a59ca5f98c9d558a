/** The processing register: both privacy notices as typed, validated data, and the classifier. */
export * from './types.ts';
export * from './register.ts';
export * from './retention.ts';
export * from './validate-register.ts';
export {
  EU_EEA_COUNTRIES,
  activityRecipients,
  classifyDisclosure,
  createClassifier,
  findActivity,
  findFlow,
  findRecipient,
  isEuEea,
  rightsFor,
  type Classification,
  type DisclosureFacts,
  type UndeclaredCode,
  type UndeclaredReason,
} from './classify.ts';
export * from './producers.ts';
export * from './register-files.ts';
export * from './load-register.ts';
export * from './in-force.ts';
export * from './diff.ts';
export * from './dry-run.ts';
export * from './words.ts';
