/**
 * Stands in for onnxruntime-node in the zip-bundled functions (probe, postprocess, start,
 * report-failure). They import the core's stage module, which reaches the model code, but they
 * never run a model; bundling the native runtime (45 MB per platform) into them would be waste.
 * esbuild aliases `onnxruntime-node` to this file for those bundles (see infra/stack.ts). If a
 * model were ever loaded in one of them, this says so instead of failing obscurely.
 */
const unavailable = (): never => {
  throw new Error('onnxruntime-node is not bundled into this function; models run in the separate and transcribe stages only.');
};

export class InferenceSession {
  public static create(): never {
    return unavailable();
  }
}

export class Tensor {
  public constructor() {
    unavailable();
  }
}

export const env = {};
