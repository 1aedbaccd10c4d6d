export { provenanceLocations, modelForProvenance, isUnderPrefix, BUNDLE_SUFFIX, ENVELOPE_SUFFIX, type ProvenanceLocations } from './locations.ts';
