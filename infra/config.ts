/**
 * Stack configuration from CDK context (`-c key=value` or cdk.json). One zod schema: each flag,
 * its default and its allowed values are stated once, and a wrong value fails synth with the list
 * of allowed values.
 */
import { z } from 'zod';

const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

export const stackConfigSchema = z.object({
  /**
   * `batch` (default): separation is an AWS Batch job on a GPU compute environment.
   * `lambda`: a CPU container-image Lambda instead, for accounts without GPU quota and LocalStack.
   */
  separation: z.enum(['batch', 'lambda']).default('batch'),
  /** Separator id passed to the core (`none` transcribes the mix directly). */
  separator: z.string().min(1).default('htdemucs'),
  /** Transcriber id (the core's DEFAULT_TRANSCRIBER; infra does not import the core). */
  transcriber: z.string().min(1).default('piano-ensemble'),
  postprocess: z.enum(['default', 'raw']).default('default'),
  /** Uploads under this prefix with an audio suffix start a run. Must end with `/`. */
  uploadPrefix: z.string().regex(/^[^*]+\/$/, 'must end with "/" and contain no "*"').default('uploads/'),
  maxInputBytes: z.coerce.number().int().positive().optional(),
  maxDurationSec: z.coerce.number().positive().optional(),
  /** GPU instance types for the Batch compute environment (comma-separated on the command line). */
  gpuInstanceTypes: z
    .union([z.array(z.string()), z.string().transform((s) => s.split(',').map((t) => t.trim()))])
    .default(['g4dn.xlarge', 'g5.xlarge']),
  /** Spot capacity for the GPU compute environment (cheaper, may be reclaimed; jobs are retried). */
  gpuSpot: bool.default(false),
  maxGpuVcpus: z.coerce.number().int().positive().default(16),
  /** Days intermediates under `work/` are kept in the output bucket. */
  workRetentionDays: z.coerce.number().int().positive().default(7),
});

export type StackConfig = z.infer<typeof stackConfigSchema>;

export const CONTEXT_KEYS = Object.keys(stackConfigSchema.shape) as (keyof StackConfig)[];

/** Reads every known key from a context getter (e.g. `app.node.tryGetContext`). */
export function readStackConfig(getContext: (key: string) => unknown): StackConfig {
  const raw: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) {
    const value = getContext(key);
    if (value !== undefined) raw[key] = value;
  }
  const parsed = stackConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `-c ${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid stemscribe context: ${problems}`);
  }
  return parsed.data;
}
