import { describe, expect, it } from 'vitest';
import { EventPatternError, matchesEventPattern } from '../../localcloud/eventPattern.js';

const event = {
  source: 'aws.s3',
  'detail-type': 'Object Created',
  resources: ['arn:aws:s3:::in', 'arn:aws:s3:::other'],
  detail: { bucket: { name: 'in' }, object: { key: 'uploads/a/Song.MP3', size: 2048 }, reason: 'PutObject' },
};

describe('Function: matchesEventPattern', () => {
  it('exact values: fields AND, values in an array OR', () => {
    expect(matchesEventPattern({ source: ['aws.s3'], 'detail-type': ['Object Created'] }, event)).toBe(true);
    expect(matchesEventPattern({ source: ['aws.s3'], 'detail-type': ['Object Deleted'] }, event)).toBe(false);
    expect(matchesEventPattern({ source: ['aws.ec2', 'aws.s3'] }, event)).toBe(true);
  });

  it('nested objects and missing fields', () => {
    expect(matchesEventPattern({ detail: { bucket: { name: ['in'] } } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { bucket: { name: ['out'] } } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { missing: ['x'] } }, event)).toBe(false);
  });

  it('an array in the event matches if any element matches', () => {
    expect(matchesEventPattern({ resources: ['arn:aws:s3:::other'] }, event)).toBe(true);
    expect(matchesEventPattern({ resources: ['arn:aws:s3:::nope'] }, event)).toBe(false);
  });

  it('prefix, suffix, equals-ignore-case and their case-insensitive forms', () => {
    const key = (m: unknown): boolean => matchesEventPattern({ detail: { object: { key: [m] } } }, event);
    expect(key({ prefix: 'uploads/' })).toBe(true);
    expect(key({ prefix: 'results/' })).toBe(false);
    expect(key({ suffix: '.MP3' })).toBe(true);
    expect(key({ suffix: '.mp3' })).toBe(false);
    expect(key({ suffix: { 'equals-ignore-case': '.mp3' } })).toBe(true);
    expect(key({ prefix: { 'equals-ignore-case': 'UPLOADS/' } })).toBe(true);
    expect(key({ 'equals-ignore-case': 'UPLOADS/A/SONG.mp3' })).toBe(true);
  });

  it('wildcard: * spans any characters including /, the rest is literal', () => {
    const key = (w: string, k = 'uploads/a/Song.MP3'): boolean =>
      matchesEventPattern({ detail: { object: { key: [{ wildcard: w }] } } }, { detail: { object: { key: k } } });
    expect(key('uploads/*.MP3')).toBe(true);
    expect(key('uploads/*.mp3')).toBe(false);
    expect(key('uploads/*')).toBe(true);
    expect(key('*/Song.MP3')).toBe(true);
    expect(key('uploads/?/Song.MP3')).toBe(false);
    expect(key('uploads/a.b', 'uploads/aXb')).toBe(false);
    expect(key('a\\*b', 'a*b')).toBe(true);
    expect(key('a\\*b', 'aXb')).toBe(false);
  });

  it('anything-but, numeric, exists', () => {
    expect(matchesEventPattern({ detail: { reason: [{ 'anything-but': 'CopyObject' }] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { reason: [{ 'anything-but': ['PutObject', 'CopyObject'] }] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { object: { key: [{ 'anything-but': { prefix: 'work/' } }] } } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { object: { size: [{ numeric: ['>', 0, '<=', 2048] }] } } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { object: { size: [{ numeric: ['>', 2048] }] } } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { object: { etag: [{ exists: false }] } } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { object: { size: [{ exists: true }] } } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { object: { size: [{ exists: false }] } } }, event)).toBe(false);
  });

  it('$or: any alternative', () => {
    const p = { $or: [{ source: ['aws.ec2'] }, { detail: { reason: ['PutObject'] } }] };
    expect(matchesEventPattern(p, event)).toBe(true);
    expect(matchesEventPattern({ $or: [{ source: ['aws.ec2'] }, { source: ['aws.sqs'] }] }, event)).toBe(false);
  });

  it('rejects what it does not implement instead of guessing', () => {
    expect(() => matchesEventPattern({ source: [{ cidr: '10.0.0.0/24' }] }, event)).toThrow(EventPatternError);
    expect(() => matchesEventPattern({ source: 'aws.s3' }, event)).toThrow(EventPatternError);
  });
});
