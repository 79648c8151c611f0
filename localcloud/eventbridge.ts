/**
 * Local EventBridge (default bus): turns S3 object-created notifications of buckets that have
 * EventBridge delivery enabled into "Object Created" events, matches them against every rule's
 * pattern from the template, and delivers them to the rule's targets (Lambda functions, state
 * machines). Deliveries are asynchronous, as on AWS; `idle()` waits for them.
 */
import { randomUUID } from 'node:crypto';
import type { CfnTemplate } from '../infra/synth.js';
import { matchesEventPattern } from './eventPattern.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, resolveIntrinsics, type LocalNames } from './intrinsics.js';
import type { LocalLambda } from './lambda.js';
import type { ObjectCreated } from './s3.js';
import type { LocalStepFunctions } from './stepfunctions.js';
import { resourcesOfType } from './template.js';

export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

interface Rule {
  logicalId: string;
  pattern: unknown;
  targets: { Arn: string; Id: string }[];
}

export interface Delivery {
  rule: string;
  target: string;
  event: BusEvent;
  result?: unknown;
  error?: string;
}

export class LocalEventBridge {
  public readonly deliveries: Delivery[] = [];
  readonly #rules: Rule[] = [];
  readonly #eventBridgeBuckets = new Set<string>();
  readonly #pending = new Set<Promise<void>>();

  public constructor(
    template: CfnTemplate,
    names: LocalNames,
    private readonly lambda: LocalLambda,
    private readonly sfn: LocalStepFunctions,
  ) {
    for (const r of resourcesOfType(template, 'AWS::Events::Rule')) {
      const props = resolveIntrinsics(r.properties, names) as {
        EventPattern?: unknown;
        State?: string;
        EventBusName?: string;
        Targets?: { Arn: string; Id: string }[];
      };
      if (props.State === 'DISABLED' || !props.EventPattern) continue;
      if (props.EventBusName && props.EventBusName !== 'default') continue;
      this.#rules.push({ logicalId: r.logicalId, pattern: props.EventPattern, targets: props.Targets ?? [] });
    }
    // CDK enables EventBridge delivery through its bucket-notifications custom resource.
    for (const n of resourcesOfType(template, 'Custom::S3BucketNotifications')) {
      const props = resolveIntrinsics(n.properties, names) as { BucketName?: string; NotificationConfiguration?: Record<string, unknown> };
      if (props.BucketName && props.NotificationConfiguration && 'EventBridgeConfiguration' in props.NotificationConfiguration) {
        this.#eventBridgeBuckets.add(props.BucketName);
      }
    }
    for (const b of resourcesOfType(template, 'AWS::S3::Bucket')) {
      const cfg = b.properties.NotificationConfiguration as { EventBridgeConfiguration?: { EventBridgeEnabled?: boolean } } | undefined;
      if (cfg?.EventBridgeConfiguration?.EventBridgeEnabled) this.#eventBridgeBuckets.add(names.ref(b.logicalId));
    }
  }

  public sendsEventsFor(bucket: string): boolean {
    return this.#eventBridgeBuckets.has(bucket);
  }

  /** The event S3 sends to EventBridge for a created object. */
  public static objectCreatedEvent(o: ObjectCreated): BusEvent {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: LOCAL_ACCOUNT,
      time: o.time,
      region: LOCAL_REGION,
      resources: [`arn:aws:s3:::${o.bucket}`],
      detail: {
        version: '0',
        bucket: { name: o.bucket },
        object: { key: o.key, size: o.size, etag: o.etag, sequencer: o.sequencer },
        'request-id': randomUUID(),
        requester: LOCAL_ACCOUNT,
        'source-ip-address': '127.0.0.1',
        reason: o.reason,
      },
    };
  }

  public fromS3(o: ObjectCreated): void {
    if (this.sendsEventsFor(o.bucket)) this.put(LocalEventBridge.objectCreatedEvent(o));
  }

  public put(event: BusEvent): void {
    for (const rule of this.#rules) {
      if (!matchesEventPattern(rule.pattern, event)) continue;
      for (const target of rule.targets) {
        const delivery: Delivery = { rule: rule.logicalId, target: target.Arn, event };
        this.deliveries.push(delivery);
        const p = this.deliver(target.Arn, event)
          .then((result) => {
            delivery.result = result;
          })
          .catch((error: unknown) => {
            delivery.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          })
          .finally(() => this.#pending.delete(p));
        this.#pending.add(p);
      }
    }
  }

  private async deliver(arn: string, event: BusEvent): Promise<unknown> {
    // Let the S3 PUT that caused the event finish first, as the real (asynchronous) bus does.
    await new Promise((r) => setImmediate(r));
    if (arn.startsWith('arn:aws:lambda:')) return this.lambda.invoke(arn, event);
    if (arn.startsWith('arn:aws:states:')) return this.sfn.startExecution(arn, randomUUID(), JSON.stringify(event)).executionArn;
    throw new Error(`target ${arn} is not emulated`);
  }

  /** Resolves when every delivery so far has finished. */
  public async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}
