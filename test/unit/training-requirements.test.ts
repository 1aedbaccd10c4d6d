// The two hash-pinned training environments agree: tasks/requirements.txt (the GPU image, CUDA)
// and tasks/requirements-cpu.txt (the demo's and the tests' venv). Same frameworks at the same
// versions, every shared package at the same version with the same hashes, and the CPU set leaves
// out exactly what torch and TensorFlow need only on a GPU. That torch really imports and trains
// without those is test/integration/training-venv.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const tasks = join(import.meta.dirname, '..', '..', 'tasks');

interface Pin { readonly version: string; readonly hashes: ReadonlySet<string> }

/** name -> pin, from a pip-compile output (`name==version \` then `--hash=sha256:…` lines). */
function pins(file: string): Map<string, Pin> {
  const result = new Map<string, { version: string; hashes: Set<string> }>();
  let current: { version: string; hashes: Set<string> } | undefined;
  for (const line of readFileSync(join(tasks, file), 'utf8').split('\n')) {
    const pin = /^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)/.exec(line);
    if (pin?.[1] && pin[2]) {
      current = { version: pin[2], hashes: new Set() };
      result.set(pin[1].toLowerCase(), current);
    }
    for (const m of line.matchAll(/--hash=sha256:([0-9a-f]{64})/g)) current?.hashes.add(m[1] ?? '');
  }
  return result;
}

/** The names pip-compile lists, commented out, as left out by --unsafe-package. */
function leftOut(file: string): string[] {
  const text = readFileSync(join(tasks, file), 'utf8');
  const block = /Consider using the --allow-unsafe flag\.\n((?:# \S+\n)*)/.exec(text);
  return (block?.[1] ?? '').split('\n').filter(Boolean).map((l) => l.slice(2)).sort();
}

const cuda = pins('requirements.txt');
const cpu = pins('requirements-cpu.txt');
const test = pins('requirements-test.txt');

// What torch declares but loads only on a GPU (torch.compile's triton, cuSOLVER and NVRTC for
// CUDA kernels, NVTX, the CUDA Python bindings), and TensorFlow's [and-cuda] extra (nvcc) with the
// CUDA build of TensorFlow itself.
const GPU_ONLY = ['cuda-bindings', 'cuda-pathfinder', 'nvidia-cuda-nvcc-cu12', 'nvidia-cuda-nvrtc-cu12', 'nvidia-cusolver-cu12', 'nvidia-nvtx-cu12', 'tensorflow', 'triton'];
// The CUDA libraries torch's own shared objects name as needed (readelf -d torch/lib/*.so): PyPI's
// only torch wheel for Linux x86_64 is the CUDA build, and without these `import torch` fails.
const TORCH_LINKS = ['nvidia-cublas-cu12', 'nvidia-cuda-cupti-cu12', 'nvidia-cuda-runtime-cu12', 'nvidia-cudnn-cu12', 'nvidia-cufft-cu12', 'nvidia-cufile-cu12',
  'nvidia-curand-cu12', 'nvidia-cusparse-cu12', 'nvidia-cusparselt-cu12', 'nvidia-nccl-cu12', 'nvidia-nvjitlink-cu12', 'nvidia-nvshmem-cu12'];

describe('the CPU and CUDA training requirements', () => {
  it('pin the same frameworks at the same versions', () => {
    assert.equal(cpu.get('torch')?.version, cuda.get('torch')?.version);
    assert.equal(cpu.get('tensorflow-cpu')?.version, cuda.get('tensorflow')?.version, 'tensorflow-cpu is the same release as the GPU image\'s tensorflow');
    assert.equal(cpu.get('keras')?.version, cuda.get('keras')?.version);
    assert.ok(cpu.get('torch')?.version && cpu.get('tensorflow-cpu')?.version);
  });

  it('pin every package both hold to the same version and the same hashes', () => {
    const shared = [...cpu.keys()].filter((name) => cuda.has(name));
    assert.ok(shared.length > 50, `${shared.length} shared packages`);
    for (const name of shared) {
      assert.equal(cpu.get(name)?.version, cuda.get(name)?.version, name);
      assert.deepEqual(cpu.get(name)?.hashes, cuda.get(name)?.hashes, `${name}: hashes`);
    }
  });

  it('differ only in what runs on a GPU alone: tensorflow-cpu instead of tensorflow, and no triton, cuSOLVER, NVRTC, NVTX, nvcc or CUDA bindings', () => {
    assert.deepEqual([...cpu.keys()].filter((name) => !cuda.has(name)), ['tensorflow-cpu']);
    assert.deepEqual([...cuda.keys()].filter((name) => !cpu.has(name)).sort(), GPU_ONLY);
  });

  it('keep in the CPU set only the CUDA libraries torch cannot be imported without', () => {
    assert.deepEqual([...cpu.keys()].filter((name) => name.startsWith('nvidia-')).sort(), TORCH_LINKS);
  });

  it('leave out of the CPU set, by pip-compile --unsafe-package, exactly the GPU-only packages torch declares', () => {
    assert.deepEqual(leftOut('requirements-cpu.txt'), GPU_ONLY.filter((name) => !['tensorflow', 'nvidia-cuda-nvcc-cu12'].includes(name)));
  });

  it('pin the test-only packages as both environments do', () => {
    for (const [name, pin] of test) {
      for (const [set, label] of [[cuda, 'requirements.txt'], [cpu, 'requirements-cpu.txt']] as const) {
        const other = set.get(name);
        if (other) assert.deepEqual(other, pin, `${name} in requirements-test.txt and ${label}`);
      }
    }
  });

  it('compile from the same framework ranges', () => {
    const range = (file: string, name: string): string | undefined =>
      new RegExp(`^${name}(?:\\[[^\\]]*\\])?(\\S*)$`, 'm').exec(readFileSync(join(tasks, file), 'utf8'))?.[1];
    assert.equal(range('requirements-cpu.in', 'torch'), range('requirements.in', 'torch'));
    assert.equal(range('requirements-cpu.in', 'tensorflow-cpu'), range('requirements.in', 'tensorflow'));
    assert.equal(range('requirements-cpu.in', 'keras'), range('requirements.in', 'keras'));
    assert.ok(range('requirements.in', 'torch'));
  });
});
