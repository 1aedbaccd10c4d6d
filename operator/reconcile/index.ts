export { ForeignOutcomes, type ForeignDecision } from './foreign-outcomes.ts';
export { Reconciler, runKey, type ReconcileSettings, type ReconcileMetrics, type ReconcilerDeps, type SigningSetup } from './reconciler.ts';
export { classify, declaresOutputs, isPipelineTask, type Action, type ClassifyOptions } from './classify.ts';
export { ANNOTATION, LABEL, FINALIZER, KEY_PREFIX, type Outcome } from './outcome.ts';
export { FAILURE_CODES, SKIP_CODES, ReconcileFailure, toFailure, type FailureCode, type SkipCode } from './failure.ts';
export { defaultInstallationName, OutcomeSeal, parseSeal, sealKeyFromSigningKey, sealKeyLine, sealKeysFromFile } from './seal.ts';
