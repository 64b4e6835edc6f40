/** Validation: rules -> findings (docs/validation.md). */
export { checkIdentity, namesMatch, type ExpectedPatient, type IdentityCheck } from './identity.ts';
export { checkInstance, type InstanceFacts, type InstanceReport } from './instance-rules.ts';
export {
  InstanceChecks,
  scanAndValidate,
  severityOf,
  validateMedia,
  type ValidateOptions,
  type ValidationResult,
  type ValidationSummary,
} from './validate.ts';
