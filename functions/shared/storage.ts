/**
 * S3 reads and writes for the handlers. Every failure is classified once, here: a missing input
 * is the user's problem (InputError), throttling/5xx/network trouble is a TransientError that
 * the workflow retries with backoff, anything else propagates unchanged.
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { InputError } from '../../src/errors.js';
import { TransientError } from './errors.js';

/**
 * The SDK already retries throttling and 5xx responses this many times (with backoff) before a
 * handler sees the error; the workflow's Retry covers whatever outlasts that.
 */
export const S3_MAX_ATTEMPTS = 3;

export function createS3Client(config: S3ClientConfig = {}): S3Client {
  return new S3Client({ maxAttempts: S3_MAX_ATTEMPTS, ...config });
}

interface SdkErrorShape {
  name?: string;
  $retryable?: unknown;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  code?: string;
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);
const THROTTLING = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'TimeoutError']);

export function isTransientS3Error(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  if (e.$retryable !== undefined && e.$retryable !== false) return true;
  if (e.$fault === 'server' || (status !== undefined && status >= 500)) return true;
  if (e.name && THROTTLING.has(e.name)) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  return false;
}

const isNotFound = (error: unknown): boolean => {
  const e = error as SdkErrorShape;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
};

function classify(error: unknown, what: string): never {
  if (isTransientS3Error(error)) {
    const name = (error as SdkErrorShape).name ?? 'Error';
    throw new TransientError(`S3 was unavailable while ${what} (${name}); the step will be retried.`, { cause: error });
  }
  throw error;
}

export class Storage {
  public constructor(private readonly s3: S3Client) {}

  public async getBytes(bucket: string, key: string): Promise<Uint8Array> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!out.Body) return new Uint8Array(0);
      return await out.Body.transformToByteArray();
    } catch (error) {
      return classify(error, `reading s3://${bucket}/${key}`);
    }
  }

  /** Reads the user's upload; a missing object becomes an InputError the user can act on. */
  public async getInput(bucket: string, key: string): Promise<Uint8Array> {
    try {
      return await this.getBytes(bucket, key);
    } catch (error) {
      if (isNotFound(error)) {
        throw new InputError('NOT_FOUND', `s3://${bucket}/${key} no longer exists; upload the file again.`, { cause: error });
      }
      throw error;
    }
  }

  /** Size in bytes, or undefined when the object does not exist. */
  public async sizeOf(bucket: string, key: string): Promise<number | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return out.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      return classify(error, `inspecting s3://${bucket}/${key}`);
    }
  }

  public async exists(bucket: string, key: string): Promise<boolean> {
    return (await this.sizeOf(bucket, key)) !== undefined;
  }

  /** Writes are whole-object PUTs to deterministic keys, so repeating one is harmless. */
  public async putBytes(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<void> {
    try {
      await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    } catch (error) {
      classify(error, `writing s3://${bucket}/${key}`);
    }
  }

  public async putJson(bucket: string, key: string, value: unknown): Promise<void> {
    const body = new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
    await this.putBytes(bucket, key, body, 'application/json');
  }

  public async getJson<T>(bucket: string, key: string): Promise<T> {
    const bytes = await this.getBytes(bucket, key);
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  }

  public async getJsonIfExists<T>(bucket: string, key: string): Promise<T | undefined> {
    try {
      return await this.getJson<T>(bucket, key);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Deleting a missing key succeeds on S3, so this is idempotent too. */
  public async delete(bucket: string, key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      classify(error, `deleting s3://${bucket}/${key}`);
    }
  }

  public async copy(bucket: string, fromKey: string, toKey: string): Promise<void> {
    try {
      await this.s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: toKey, CopySource: `${bucket}/${encodeURIComponent(fromKey).replace(/%2F/g, '/')}` }),
      );
    } catch (error) {
      classify(error, `copying s3://${bucket}/${fromKey}`);
    }
  }
}
