/// <reference path="./s3rver.d.ts" />
/**
 * A real S3-protocol server on 127.0.0.1 (s3rver, files in a temp folder), plus the two things
 * tests need from a cloud they cannot reach: object-created notifications, and injected faults.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver, { type KoaLikeContext, type S3NotificationRecord } from 's3rver';
import { LOCAL_REGION } from './intrinsics.js';

/** s3rver's fixed credentials (it checks signatures). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3Fault {
  /** HTTP method to fail (GET, PUT, HEAD, ...). */
  method: string;
  /** Fails requests whose path-style path (`/bucket/key`) matches. */
  pathPattern: RegExp;
  /** How many matching requests fail before the fault clears. */
  remaining: number;
  /** S3 error code and HTTP status returned, e.g. SlowDown / 503. */
  code: string;
  status: number;
}

export interface ObjectCreated {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  sequencer: string;
  /** PutObject, CopyObject, ... as in EventBridge's `detail.reason`. */
  reason: string;
  time: string;
}

export interface LocalS3 {
  endpoint: string;
  /** An SDK client for this server (path-style addressing, local credentials). */
  client(): S3Client;
  createBucket(name: string): Promise<void>;
  onObjectCreated(listener: (event: ObjectCreated) => void): void;
  /** Fail the next `count` matching requests with an S3 error; returns the live fault record. */
  injectFault(fault: Omit<S3Fault, 'remaining'> & { count: number }): S3Fault;
  /** Requests that were answered by an injected fault. */
  readonly faultsServed: { method: string; path: string; code: string }[];
  stop(): Promise<void>;
}

const REASONS: Record<string, string> = {
  'ObjectCreated:Put': 'PutObject',
  'ObjectCreated:Post': 'PostObject',
  'ObjectCreated:Copy': 'CopyObject',
  'ObjectCreated:CompleteMultipartUpload': 'CompleteMultipartUpload',
};

export async function startLocalS3(): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), 'stemscribe-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const faults: S3Fault[] = [];
  const faultsServed: LocalS3['faultsServed'] = [];
  // Runs before s3rver's router: Koa composes `middleware` when the server starts listening.
  server.middleware.unshift(async (ctx: KoaLikeContext, next: () => Promise<void>) => {
    const fault = faults.find((f) => f.remaining > 0 && f.method === ctx.method && f.pathPattern.test(ctx.path));
    if (!fault) return next();
    fault.remaining -= 1;
    faultsServed.push({ method: ctx.method, path: ctx.path, code: fault.code });
    ctx.status = fault.status;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>Injected fault</Message></Error>`;
  });
  const listeners: ((e: ObjectCreated) => void)[] = [];
  server.on('event', (event: { Records: S3NotificationRecord[] }) => {
    for (const record of event.Records) {
      if (!record.eventName.startsWith('ObjectCreated:')) continue;
      const created: ObjectCreated = {
        bucket: record.s3.bucket.name,
        key: record.s3.object.key,
        size: record.s3.object.size ?? 0,
        etag: (record.s3.object.eTag ?? '').replace(/"/g, ''),
        sequencer: record.s3.object.sequencer ?? '',
        reason: REASONS[record.eventName] ?? 'PutObject',
        time: record.eventTime,
      };
      for (const l of listeners) l(created);
    }
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = (): S3Client =>
    new S3Client({ endpoint, region: LOCAL_REGION, forcePathStyle: true, credentials: LOCAL_CREDENTIALS });
  const admin = client();
  return {
    endpoint,
    client,
    createBucket: async (name) => {
      await admin.send(new CreateBucketCommand({ Bucket: name }));
    },
    onObjectCreated: (l) => listeners.push(l),
    injectFault: ({ count, ...rest }) => {
      const fault: S3Fault = { ...rest, remaining: count };
      faults.push(fault);
      return fault;
    },
    faultsServed,
    stop: async () => {
      admin.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
