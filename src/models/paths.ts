/**
 * Where model files live. In a checkout or an npm install they are in `<package root>/models`;
 * bundled deployments (Lambda, Batch images) copy them elsewhere and set `STEMSCRIBE_MODELS_DIR`.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const MODELS_DIR_ENV = 'STEMSCRIBE_MODELS_DIR';

function findPackageRoot(startDir: string): string | undefined {
  let dir = startDir;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'models'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Absolute path of the models directory. */
export function modelsDir(): string {
  const fromEnv = process.env[MODELS_DIR_ENV];
  if (fromEnv) return resolve(fromEnv);
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  if (!root) {
    throw new Error(`Cannot find the stemscribe models directory; set ${MODELS_DIR_ENV} to the folder that holds the model files.`);
  }
  return join(root, 'models');
}

/** Absolute path of a file under the models directory, e.g. `modelPath('basic-pitch', 'nmp.onnx')`. */
export function modelPath(...parts: string[]): string {
  return join(modelsDir(), ...parts);
}
