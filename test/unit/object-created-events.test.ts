import { describe, expect, it } from 'vitest';
import { createdObjectsOf } from '../../shared/runtime/events';

/** An S3 "Object Created" event as EventBridge delivers it (AWS's documented shape). */
const eventBridge = (detail: Record<string, unknown> = {}) => ({
  version: '0',
  id: '17793124-05d4-b198-2fde-7ededc63b103',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '111122223333',
  time: '2026-11-23T10:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:s3:::media'],
  detail: {
    version: '0',
    bucket: { name: 'media' },
    object: { key: 'incoming/Happy+Face%C3%A9.jpg', size: 5, etag: 'b1946ac92492d2347c6235b4d2611184', sequencer: '00617F08299329D189' },
    'request-id': 'N4N7GDK58NMKJ12R',
    requester: '123456789012',
    'source-ip-address': '1.2.3.4',
    reason: 'PutObject',
    ...detail,
  },
});

describe('S3 Object Created events (Powertools Parser schema for EventBridge)', () => {
  it('reads bucket, decoded key, size and ETag', () => {
    expect(createdObjectsOf(eventBridge())).toEqual([{ bucket: 'media', key: 'incoming/Happy Faceé.jpg', size: 5, etag: 'b1946ac92492d2347c6235b4d2611184' }]);
  });

  it('takes an IPv6 requester (dual-stack endpoint), which the schema alone would refuse', () => {
    expect(createdObjectsOf(eventBridge({ 'source-ip-address': '2001:db8::1' }))).toHaveLength(1);
  });

  it('refuses other sources and types, and events without their envelope', () => {
    expect(() => createdObjectsOf({ ...eventBridge(), 'detail-type': 'Object Deleted' })).toThrow(/not an S3 Object Created event/);
    expect(() => createdObjectsOf({ ...eventBridge(), source: 'aws.ec2' })).toThrow(/not an S3 Object Created event/);
    const { account: _account, ...withoutAccount } = eventBridge();
    expect(() => createdObjectsOf(withoutAccount)).toThrow(/not an S3 Object Created event/);
  });

  it('still reads classic S3 notifications and ignores the test event', () => {
    const classic = { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'media' }, object: { key: 'a%20b.jpg', size: 3 } } }] };
    expect(createdObjectsOf(classic)).toEqual([{ bucket: 'media', key: 'a b.jpg', size: 3, etag: undefined }]);
    expect(createdObjectsOf({ Event: 's3:TestEvent' })).toEqual([]);
  });
});
