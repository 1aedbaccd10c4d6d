export { Reconciler, type ReconcileSettings, type ReconcileMetrics, type ReconcilerDeps } from './reconciler.ts';
export { classify, type Action, type ClassifyOptions } from './classify.ts';
export { ANNOTATION, LABEL, FINALIZER, type Outcome } from './outcome.ts';
export { ReconcileFailure, toFailure, type FailureCode } from './failure.ts';
