export { WorkQueue, type Handler } from './workqueue.ts';
export { backoffDelay, type BackoffPolicy } from './backoff.ts';
