/** Test helper: an S3 "Object Created" event as EventBridge delivers it. */
export class EventBridgeEvent {
  public readonly version = '0';
  public readonly id = '17793124-05d4-b198-2fde-7ededc63b103';
  public readonly 'detail-type' = 'Object Created';
  public readonly source = 'aws.s3';
  public readonly account = '111122223333';
  public readonly time = '2021-11-12T00:00:00Z';
  public readonly region = 'us-east-1';
  public readonly resources: string[];
  public readonly detail: Record<string, unknown>;

  public constructor(bucket: string, key: string, size = 1024, etag = 'b1946ac92492d2347c6235b4d2611184') {
    this.resources = [`arn:aws:s3:::${bucket}`];
    this.detail = {
      version: '0',
      bucket: { name: bucket },
      object: { key, size, etag, sequencer: '00617F08299329D189' },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '123456789012',
      'source-ip-address': '1.2.3.4',
      reason: 'PutObject',
    };
  }
}
