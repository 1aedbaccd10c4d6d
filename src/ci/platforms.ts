// The CI platforms `slsa-ml attest-ci` knows, by their --platform name. Adding one is one line.
import { cloudBuildPlatform } from './cloud-build/platform.ts';
import { gitlabPlatform } from './gitlab/platform.ts';
import type { CiEnv, CiPlatform } from './platform.ts';

export const PLATFORMS: ReadonlyArray<CiPlatform> = [
  gitlabPlatform,
  cloudBuildPlatform,
];

export function platformNamed(name: string): CiPlatform | undefined {
  return PLATFORMS.find((p) => p.name === name);
}

/** The platforms whose own variables say this job runs on them. */
export function detectedPlatforms(env: CiEnv): CiPlatform[] {
  return PLATFORMS.filter((p) => p.detect(env));
}
