export { NAMESPACE_PLACEHOLDER, measureOutputs, measurePipelineOutputs, outputSchemes, prefixesFor, type MeasureSettings, type MeasuredOutput, type ModelLimits } from './measure.ts';
export { AttestError, type AttestErrorCode } from './errors.ts';
export { refuseExistingSiblings, storeCreateOnly } from './store.ts';
