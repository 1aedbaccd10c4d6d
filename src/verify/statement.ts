// The signed payload as an in-toto Statement, converted once after its signature verified.
import { failed, type CheckOutcome } from './result.ts';

export interface StatementSubject {
  readonly name: string;
  readonly uri?: string;
  readonly digest: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export interface InTotoStatement {
  readonly _type: string;
  readonly subject: ReadonlyArray<StatementSubject>;
  readonly predicateType: string;
  readonly predicate: Readonly<Record<string, unknown>>;
}

export function parseStatement(payload: Buffer): InTotoStatement | CheckOutcome {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return failed('MALFORMED', 'payload is not JSON');
  }
  if (!isObject(json)) return failed('MALFORMED', 'payload is not a JSON object');
  const { _type, subject, predicateType, predicate } = json;
  if (typeof _type !== 'string' || typeof predicateType !== 'string' || !isObject(predicate) || !Array.isArray(subject)) {
    return failed('MALFORMED', 'payload is not an in-toto Statement (_type, subject[], predicateType, predicate)');
  }
  const subjects = subject.map(toSubject);
  if (subjects.some((s) => s === undefined)) return failed('MALFORMED', 'a subject has no digest map of strings');
  return { _type, subject: subjects as StatementSubject[], predicateType, predicate };
}

export function isStatement(value: InTotoStatement | CheckOutcome): value is InTotoStatement {
  return '_type' in value;
}

function toSubject(value: unknown): StatementSubject | undefined {
  if (!isObject(value) || !isObject(value.digest)) return undefined;
  const digest = value.digest;
  if (!Object.values(digest).every((d) => typeof d === 'string')) return undefined;
  return {
    name: typeof value.name === 'string' ? value.name : '',
    ...(typeof value.uri === 'string' ? { uri: value.uri } : {}),
    digest: digest as Record<string, string>,
    ...(isObject(value.annotations) ? { annotations: value.annotations } : {}),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
