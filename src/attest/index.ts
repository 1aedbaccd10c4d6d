export { measureOutputs, outputSchemes, type MeasureSettings, type MeasuredOutput } from './measure.ts';
export { AttestError, type AttestErrorCode } from './errors.ts';
export { refuseExistingSiblings, storeCreateOnly } from './store.ts';
