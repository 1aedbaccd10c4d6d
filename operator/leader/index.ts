export { LeaderElector } from './leader-elector.ts';
export type { LeaderElectorOptions } from './options.ts';
export { LeaderElectionError, type LeaderElectionErrorCode } from './errors.ts';
