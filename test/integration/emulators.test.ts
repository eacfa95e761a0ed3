import { describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { useEmulators } from '../support/aws.js';

describe('local emulators', () => {
  it('round-trips an item through DynamoDB Local and an object through s3rver', async () => {
    const { tableName, bucketName, documents, s3 } = await useEmulators();
    await documents.send(new PutCommand({ TableName: tableName, Item: { pk: 'a', sk: 'b', n: 1 } }));
    const got = await documents.send(new GetCommand({ TableName: tableName, Key: { pk: 'a', sk: 'b' } }));
    expect(got.Item).toEqual({ pk: 'a', sk: 'b', n: 1 });
    await s3.send(new PutObjectCommand({ Bucket: bucketName, Key: 'x/y.txt', Body: 'hello' }));
    const object = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: 'x/y.txt' }));
    expect(await object.Body?.transformToString()).toBe('hello');
  });
});
