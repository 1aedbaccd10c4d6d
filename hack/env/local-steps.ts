// Runs a Tekton Pod's steps on this machine, as a node would run its containers: each step's
// script exactly as Tekton placed it in the Pod (the place-scripts init container), with the
// environment Tekton resolved into the container spec (Secrets read like a kubelet reads them),
// one after another, stopping at the first failure. Results are read from the files the step
// wrote, as Tekton's entrypoint reads them. There are no images here, so the container paths a
// script uses are mapped into a scratch directory, and what an image would provide comes from
// this machine: the training image's Python is the cached training venv with tasks/ as its
// code; the slsa-ml image's `slsa-ml` is operator/bin.ts; anything else runs with this shell.
// Each Pod has its own /workspace, but the Pods of one PipelineRun share its workspaces: a
// workspace mount (/workspace/<name> from an emptyDir or PVC volume) maps to one directory per
// PipelineRun and Pipeline workspace (per claim for a PVC), whichever Task name and mount path
// each Pod gives it. An emptyDir is shared that way only here, standing in for the
// volumeClaimTemplate that nothing in the local environment provisions.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Container, type V1Pod, type V1VolumeMount } from '@kubernetes/client-node';
import { entrypointFlag, imageIdFor, stepContainers, type StepOutcome, type StepOutcomes } from './pod-outcome.ts';
import type { RunningPod } from './pod-runner.ts';

const repo = join(import.meta.dirname, '..', '..');

export interface LocalStepsOptions {
  readonly kc: KubeConfig;
  /** fake-gcs-server, for the training code's and slsa-ml's Cloud Storage clients. */
  readonly gcsEndpoint: string;
  /** Scratch space; each Pod gets a directory below it. */
  readonly workDir: string;
  /** python of the training venv (hack/install-tools.sh training); needed only for training images. */
  readonly trainingPython?: string;
  /** Each line a step prints, prefixed by the step name. */
  readonly log?: (step: string, line: string) => void;
}

/** What a Tekton image provides, stood in for by this machine. */
interface ImageStandIn {
  readonly paths: Readonly<Record<string, string>>;
  readonly binDirs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** The scripts the place-scripts init container writes: path -> script text. */
export function placedScripts(pod: V1Pod): Map<string, string> {
  const scripts = new Map<string, string>();
  const init = (pod.spec?.initContainers ?? []).find((c) => c.name === 'place-scripts');
  const text = (init?.args ?? []).join('\n');
  const re = /scriptfile="([^"]+)"\ntouch \$\{scriptfile\} && chmod \+x \$\{scriptfile\}\ncat > \$\{scriptfile\} << '_EOF_'\n([A-Za-z0-9+/=\n]*?)\n_EOF_\n/g;
  for (const m of text.matchAll(re)) scripts.set(m[1] ?? '', Buffer.from((m[2] ?? '').replace(/\n/g, ''), 'base64').toString('utf8'));
  return scripts;
}

export class LocalSteps {
  readonly #options: LocalStepsOptions;
  readonly #abort = new AbortController();

  constructor(options: LocalStepsOptions) {
    this.#options = options;
  }

  /** Kills every step still running (a run cancelled, or a test that gave up on it). */
  stop(): void {
    this.#abort.abort();
  }

  /** Runs every step of the Pod in order; the outcomes are what the Pod reports. */
  async run(pod: RunningPod): Promise<StepOutcomes> {
    if (this.#abort.signal.aborted) throw new Error('the local step runtime was stopped');
    const root = join(this.#options.workDir, pod.namespace, pod.name);
    for (const dir of ['workspace', 'tekton/results', 'tekton/home', 'bin']) mkdirSync(join(root, dir), { recursive: true });
    const scripts = placedScripts(pod.pod);
    const workspaces = await this.#sharedWorkspaces(pod);
    for (const dir of Object.values(workspaces)) mkdirSync(dir, { recursive: true });
    const outcomes: Record<string, StepOutcome> = {};
    for (const container of stepContainers(pod.pod)) {
      const step = container.name.slice('step-'.length);
      const outcome = await this.#runStep(pod, container, scripts, root, workspaces);
      outcomes[step] = outcome;
      if ((outcome.exitCode ?? 0) !== 0) break;
    }
    return outcomes;
  }

  /**
   * Mount path -> directory for the workspace mounts of a PipelineRun's Pod: one directory per
   * PipelineRun and Pipeline workspace (a PVC: per claim), plus the mount's subPath. A standalone
   * TaskRun's Pod keeps its workspaces under its own /workspace.
   */
  async #sharedWorkspaces(pod: RunningPod): Promise<Record<string, string>> {
    const mounts = workspaceMounts(pod.pod);
    if (pod.pipelineRun === undefined || mounts.length === 0) return {};
    const bound = await this.#pipelineWorkspaces(pod);
    const dirs: Record<string, string> = {};
    for (const { mount, claim } of mounts) dirs[mount.mountPath] = join(this.#volumeDir(pod, mount.mountPath, claim, bound), mount.subPath ?? '');
    return dirs;
  }

  /** The directory standing in for the volume at `mountPath`: the claim's, or the Pipeline workspace's of this PipelineRun. */
  #volumeDir(pod: RunningPod, mountPath: string, claim: string | undefined, bound: Map<string, string>): string {
    if (claim !== undefined) return join(this.#options.workDir, pod.namespace, `pvc-${claim}`);
    const workspace = bound.get(mountPath);
    if (workspace === undefined) throw new Error(`Pod ${pod.name}: cannot tell which workspace of PipelineRun ${pod.pipelineRun ?? '?'} is mounted at ${mountPath}`);
    return join(this.#options.workDir, pod.namespace, `pipelinerun-${pod.pipelineRun ?? ''}`, 'workspaces', workspace);
  }

  /** Mount path -> the Pipeline workspace bound there: the Task's workspaces (its TaskRun) and the pipeline task's bindings (the PipelineRun). */
  async #pipelineWorkspaces(pod: RunningPod): Promise<Map<string, string>> {
    const api = this.#options.kc.makeApiClient(CustomObjectsApi);
    const status = async (plural: string, name: string): Promise<Record<string, unknown>> =>
      ((await api.getNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', plural, namespace: pod.namespace, name })) as { status?: Record<string, unknown> }).status ?? {};
    const taskSpec = (await status('taskruns', pod.taskRun ?? '')).taskSpec as TaskSpec | undefined;
    const pipelineSpec = (await status('pipelineruns', pod.pipelineRun ?? '')).pipelineSpec as PipelineSpec | undefined;
    return boundWorkspaces(taskSpec ?? {}, pipelineSpec ?? {}, pod.pipelineTask);
  }

  #standIn(image: string, root: string): ImageStandIn {
    const bin = join(root, 'bin');
    if (/\/training(-tpu)?[:@]/.test(image)) {
      const python = this.#options.trainingPython;
      if (!python || !existsSync(python)) {
        throw new Error(`step image ${image} needs the training venv (bash hack/install-tools.sh training)`);
      }
      // The training code's GCS client finds an emulator through STORAGE_EMULATOR_HOST.
      return { paths: { '/opt/slsa-ml/tasks': join(repo, 'tasks') }, binDirs: [join(python, '..')], env: { STORAGE_EMULATOR_HOST: this.#options.gcsEndpoint } };
    }
    if (/\/slsa-ml[:@]/.test(image)) {
      writeFileSync(join(bin, 'slsa-ml'), `#!/bin/sh\nexec "${process.execPath}" "${join(repo, 'operator', 'bin.ts')}" "$@"\n`);
      chmodSync(join(bin, 'slsa-ml'), 0o755);
      // slsa-ml takes an emulator from SLSA_ML_GCS_ENDPOINT (STORAGE_EMULATOR_HOST would confuse its client).
      return { paths: {}, binDirs: [bin], env: { SLSA_ML_GCS_ENDPOINT: this.#options.gcsEndpoint } };
    }
    return { paths: {}, binDirs: [], env: {} };
  }

  async #runStep(pod: RunningPod, container: V1Container, scripts: Map<string, string>, root: string, workspaces: Readonly<Record<string, string>>): Promise<StepOutcome> {
    const step = container.name.slice('step-'.length);
    const script = scripts.get(entrypointFlag(container, 'entrypoint') ?? '');
    if (script === undefined) throw new Error(`step ${step} of ${pod.name} has no script; the local runtime runs only script steps`);
    if (entrypointFlag(container, 'step_results')) throw new Error(`step ${step} of ${pod.name} declares step results, which the local runtime does not collect`);
    const standIn = this.#standIn(container.image ?? '', root);
    const map = (text: string): string => mapPaths(text, root, { ...standIn.paths, ...workspaces });
    const file = join(root, `script-${step}`);
    writeFileSync(file, map(script), { mode: 0o755 });
    const env: Record<string, string> = {
      PATH: [...standIn.binDirs, process.env.PATH ?? '/usr/bin:/bin'].join(':'),
      HOME: join(root, 'tekton', 'home'),
      ...standIn.env,
    };
    for (const [name, value] of Object.entries(await this.#containerEnv(pod.namespace, container))) env[name] = map(value);
    const startedAt = new Date();
    const exitCode = await this.#exec(step, file, env, join(root, 'workspace'));
    const finishedAt = new Date();
    const results: Record<string, string> = {};
    for (const name of (entrypointFlag(container, 'results') ?? '').split(',').filter(Boolean)) {
      const path = join(root, 'tekton', 'results', name);
      if (existsSync(path)) results[name] = readFileSync(path, 'utf8');
    }
    return { exitCode, results, imageID: imageIdFor(container.image ?? ''), startedAt, finishedAt };
  }

  async #containerEnv(namespace: string, container: V1Container): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const variable of container.env ?? []) {
      const ref = variable.valueFrom?.secretKeyRef;
      if (ref) {
        const secret = await this.#options.kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: ref.name ?? '', namespace });
        const data = secret.data?.[ref.key];
        if (data === undefined) throw new Error(`Secret ${namespace}/${ref.name} has no key ${ref.key}`);
        env[variable.name] = Buffer.from(data, 'base64').toString('utf8');
      } else if (!variable.valueFrom) {
        // As a kubelet does: a variable without a value is set, to the empty string.
        env[variable.name] = variable.value ?? '';
      }
    }
    return env;
  }

  #exec(step: string, file: string, env: Record<string, string>, cwd: string): Promise<number> {
    // Its own process group, so stop() also ends what the script started.
    const child = spawn('/bin/sh', [file], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const kill = (): void => { try { process.kill(-(child.pid ?? 0), 'SIGKILL'); } catch { /* gone */ } };
    this.#abort.signal.addEventListener('abort', kill, { once: true });
    const log = this.#options.log ?? ((): void => undefined);
    const lines = (chunk: Buffer): void => { for (const line of chunk.toString().split('\n')) if (line.trim() !== '') log(step, line); };
    child.stdout.on('data', lines);
    child.stderr.on('data', lines);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        this.#abort.signal.removeEventListener('abort', kill);
        resolve(code ?? (signal ? 128 + 9 : 1));
      });
    });
  }
}

interface TaskSpec {
  workspaces?: Array<{ name: string; mountPath?: string }>;
}

interface PipelineTaskSpec {
  name: string;
  workspaces?: Array<{ name: string; workspace?: string }>;
}

interface PipelineSpec {
  tasks?: PipelineTaskSpec[];
  finally?: PipelineTaskSpec[];
}

/** Mount path of each of the Task's workspaces -> the Pipeline workspace the pipeline task binds to it. */
function boundWorkspaces(taskSpec: TaskSpec, pipelineSpec: PipelineSpec, pipelineTask: string | undefined): Map<string, string> {
  const bindings = [...(pipelineSpec.tasks ?? []), ...(pipelineSpec.finally ?? [])].find((t) => t.name === pipelineTask)?.workspaces ?? [];
  const bound = new Map<string, string>();
  for (const w of taskSpec.workspaces ?? []) {
    const workspace = bindings.find((b) => b.name === w.name)?.workspace;
    if (workspace !== undefined) bound.set(w.mountPath ?? `/workspace/${w.name}`, workspace);
  }
  return bound;
}

/** The step containers' workspace mounts: /workspace/<name> from an emptyDir or PVC volume (not Tekton's own volumes). */
function workspaceMounts(pod: V1Pod): Array<{ mount: V1VolumeMount; claim?: string }> {
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  const mounts = new Map<string, { mount: V1VolumeMount; claim?: string }>();
  for (const container of stepContainers(pod)) {
    for (const mount of container.volumeMounts ?? []) {
      const volume = volumes.get(mount.name);
      if (!volume || mount.name.startsWith('tekton-') || !/^\/workspace\/[^/]+$/.test(mount.mountPath)) continue;
      if (!volume.emptyDir && !volume.persistentVolumeClaim) continue;
      mounts.set(mount.mountPath, { mount, ...(volume.persistentVolumeClaim ? { claim: volume.persistentVolumeClaim.claimName } : {}) });
    }
  }
  return [...mounts.values()];
}

/** Container paths a script or variable names, mapped into the Pod's scratch directory (one pass, whole path segments only). */
function mapPaths(text: string, root: string, extra: Readonly<Record<string, string>>): string {
  const targets: Record<string, string> = { ...extra, '/workspace': join(root, 'workspace'), '/tekton': join(root, 'tekton') };
  const keys = Object.keys(targets).sort((a, b) => b.length - a.length).map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`(^|[^\\w./-])(${keys.join('|')})(?=[/"'\\s:;)]|$)`, 'gm');
  return text.replace(re, (_m, pre: string, key: string) => `${pre}${targets[key] ?? key}`);
}
