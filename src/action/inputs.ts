// The action's inputs and outputs by name: action.yml declares the same ones (a test compares),
// and the runner fills in action.yml's defaults before this code reads them.
import { ActionError } from './errors.ts';
import { input, type ActionEnv } from './runner.ts';

export const INPUTS = {
  subjects: { required: true },
  frameworks: { required: false },
  dataset: { required: false },
  'training-runner': { required: false },
  'gcs-uri': { required: false },
  'output-dir': { required: false },
  'fulcio-url': { required: true },
  'rekor-url': { required: true },
} as const;

export type InputName = keyof typeof INPUTS;

export const OUTPUTS = [
  'model', 'subject-digest', 'builder-id', 'bundle-path', 'envelope-path', 'signature-path', 'gcs-bundle-uri', 'gcs-envelope-uri', 'gcs-signature-uri',
] as const;

export type OutputName = (typeof OUTPUTS)[number];

export type ActionInputs = Readonly<Record<InputName, string>>;

export function readInputs(env: ActionEnv): ActionInputs {
  const values = {} as Record<InputName, string>;
  for (const [name, spec] of Object.entries(INPUTS) as Array<[InputName, { required: boolean }]>) {
    const value = input(env, name);
    if (spec.required && value === '') throw new ActionError('BAD_INPUT', `${name}: required`);
    values[name] = value;
  }
  return values;
}
