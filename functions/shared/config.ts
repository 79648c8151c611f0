/**
 * Function configuration comes from environment variables that the CDK stack sets (and that the
 * local cloud reads back from the synthesized template). One zod schema per function: it states
 * each variable once, with its default, and fails fast with the variable's name.
 */
import { z } from 'zod';
import { SEPARATOR_NAMES } from '../../src/separation/index.js';
import { DEFAULT_TRANSCRIBER, TRANSCRIBER_NAMES } from '../../src/transcription/index.js';
import { ConfigurationError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

export const ENV = {
  OUTPUT_BUCKET: 'OUTPUT_BUCKET',
  STATE_MACHINE_ARN: 'STATE_MACHINE_ARN',
  UPLOAD_PREFIX: 'UPLOAD_PREFIX',
  SEPARATOR: 'SEPARATOR',
  TRANSCRIBER: 'TRANSCRIBER',
  POSTPROCESS: 'POSTPROCESS',
  MAX_INPUT_BYTES: 'MAX_INPUT_BYTES',
  MAX_DURATION_SEC: 'MAX_DURATION_SEC',
  WORK_PREFIX: 'WORK_PREFIX',
  /** Names the handler a function or job runs; the local cloud routes on it. */
  FUNCTION: 'STEMSCRIBE_FUNCTION',
} as const;

const bucket = z.string().min(3);

export const startConfigSchema = z.object({
  STATE_MACHINE_ARN: z.string().min(1),
  UPLOAD_PREFIX: z.string().default('uploads/'),
});

export const probeConfigSchema = z.object({
  OUTPUT_BUCKET: bucket,
  MAX_INPUT_BYTES: z.coerce.number().int().positive().optional(),
  MAX_DURATION_SEC: z.coerce.number().positive().optional(),
});

/** onnxruntime intra-op threads; unset = onnxruntime's choice (all cores of the function). */
const threads = z.coerce.number().int().positive().optional();

export const separateConfigSchema = z.object({
  OUTPUT_BUCKET: bucket,
  SEPARATOR: z.enum(SEPARATOR_NAMES as [string, ...string[]]).default('htdemucs'),
  /** `cuda,cpu` on the GPU job (CUDA, falling back to CPU); `cpu` elsewhere. */
  STEMSCRIBE_EXECUTION_PROVIDERS: z.string().default('cpu'),
  ORT_INTRA_OP_THREADS: threads,
});

export const transcribeConfigSchema = z.object({
  OUTPUT_BUCKET: bucket,
  TRANSCRIBER: z.enum(TRANSCRIBER_NAMES).default(DEFAULT_TRANSCRIBER),
  ORT_INTRA_OP_THREADS: threads,
});

export const postprocessConfigSchema = z.object({
  OUTPUT_BUCKET: bucket,
  /** `raw` writes the model's notes unchanged; `default` runs the musical clean-up. */
  POSTPROCESS: z.enum(['default', 'raw']).default('default'),
});

export const reportFailureConfigSchema = z.object({ OUTPUT_BUCKET: bucket });

export function parseConfig<S extends z.ZodType>(schema: S, env: Env, functionName: string): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigurationError(`${functionName} is misconfigured (${problems}); redeploy the stack.`);
  }
  return parsed.data;
}
