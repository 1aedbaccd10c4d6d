export { provenanceLocations, modelForProvenance, isUnderPrefix, BUNDLE_SUFFIX, ENVELOPE_SUFFIX, MODEL_SIGNATURE_SUFFIX, type ProvenanceLocations } from './locations.ts';
export { isSummaryName, summaryLocation, summarySuffix } from './summaries.ts';
