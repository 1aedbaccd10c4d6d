// The CPU training venv the demo and the tests run (tasks/requirements-cpu.txt, built by
// hack/install-tools.sh training): PyPI's torch, whose only Linux x86_64 wheel is the CUDA build,
// imports and trains on CPU without the GPU-only packages left out of it; TensorFlow is the CPU
// build of the GPU image's release; and the venv holds exactly what the two requirement files pin.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { trainingPython } from '../../hack/demo/training.ts';

const run = promisify(execFile);
const tasks = join(import.meta.dirname, '..', '..', 'tasks');
let python: string;

before(async () => {
  const found = await trainingPython();
  if (!found) throw new Error('the training venv is not provisioned: run `bash hack/install-tools.sh training`');
  python = found;
});

async function pythonJson<T>(script: string): Promise<T> {
  const { stdout } = await run(python, ['-c', script], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', TF_CPP_MIN_LOG_LEVEL: '3' }, timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as T;
}

const TORCH_STEP = `
import json, math, importlib.metadata as md
import torch
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 30 * 30, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
before = torch.nn.functional.cross_entropy(model(x), y)
before.backward(); opt.step()
after = torch.nn.functional.cross_entropy(model(x), y)
def installed(name):
    try: md.version(name); return True
    except md.PackageNotFoundError: return False
left_out = ["triton", "nvidia-cusolver-cu12", "nvidia-cuda-nvrtc-cu12", "nvidia-nvtx-cu12", "cuda-bindings", "cuda-pathfinder", "nvidia-cuda-nvcc-cu12", "tensorflow"]
print(json.dumps({"version": torch.__version__, "cuda": torch.cuda.is_available(), "before": before.item(), "after": after.item(),
                  "finite": math.isfinite(after.item()), "present": [n for n in left_out if installed(n)]}))
`;

const TF_BUILD = `
import json, importlib.metadata as md
import tensorflow as tf
print(json.dumps({"version": tf.__version__, "cuda": tf.test.is_built_with_cuda(), "dist": md.version("tensorflow-cpu")}))
`;

const DISTRIBUTIONS = `
import json, importlib.metadata as md
print(json.dumps(sorted({d.metadata["Name"].lower().replace("_", "-"): d.version for d in md.distributions()}.items())))
`;

function pinned(file: string): Array<[string, string]> {
  return [...readFileSync(join(tasks, file), 'utf8').matchAll(/^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)/gm)].map((m) => [(m[1] ?? '').toLowerCase(), m[2] ?? '']);
}

describe('the CPU training venv', () => {
  it('imports torch and trains a step on CPU without triton, cuSOLVER, NVRTC, NVTX, nvcc or the CUDA bindings', { timeout: 120_000 }, async () => {
    const r = await pythonJson<{ version: string; cuda: boolean; before: number; after: number; finite: boolean; present: string[] }>(TORCH_STEP);
    assert.match(r.version, /^2\.10\.0/);
    assert.equal(r.cuda, false);
    assert.ok(r.finite && r.after < r.before, `one SGD step lowers the loss: ${r.before} -> ${r.after}`);
    assert.deepEqual(r.present, []);
  });

  it('runs the CPU build of TensorFlow, the release the GPU image pins', { timeout: 120_000 }, async () => {
    const r = await pythonJson<{ version: string; cuda: boolean; dist: string }>(TF_BUILD);
    assert.equal(r.cuda, false);
    assert.equal(r.version, r.dist);
    assert.ok(pinned('requirements.txt').some(([name, version]) => name === 'tensorflow' && version === r.version), `tensorflow ${r.version} in requirements.txt`);
  });

  it('holds exactly what requirements-cpu.txt and requirements-test.txt pin (and pip)', { timeout: 60_000 }, async () => {
    const installed = (await pythonJson<Array<[string, string]>>(DISTRIBUTIONS)).filter(([name]) => name !== 'pip');
    const wanted = new Map([...pinned('requirements-cpu.txt'), ...pinned('requirements-test.txt')]);
    assert.deepEqual(installed, [...wanted].sort(([a], [b]) => a.localeCompare(b)));
  });
});
