/** The parts of s3rver (no published types) the local cloud uses. */
declare module 's3rver' {
  import type { EventEmitter } from 'node:events';
  import type { Server } from 'node:http';

  export interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    configureBuckets?: { name: string; configs?: string[] }[];
  }

  export interface KoaLikeContext {
    method: string;
    path: string;
    status: number;
    body: unknown;
    type: string;
    set(field: string, value: string): void;
  }

  export type Middleware = (ctx: KoaLikeContext, next: () => Promise<void>) => Promise<void>;

  export interface S3NotificationRecord {
    eventName: string;
    eventTime: string;
    s3: {
      bucket: { name: string };
      object: { key: string; size?: number; eTag?: string; sequencer?: string };
    };
  }

  export default class S3rver extends EventEmitter {
    public constructor(options?: S3rverOptions);
    public middleware: Middleware[];
    public httpServer?: Server;
    public run(): Promise<{ address: string; port: number }>;
    public close(): Promise<void>;
    public on(event: 'event', listener: (event: { Records: S3NotificationRecord[] }) => void): this;
    public on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
