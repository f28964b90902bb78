import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type TestDynamo } from '../support/dynalite';

/** The tests' dynalite: a state table is usable as soon as createStateTable answers. */
describe('test dynalite', () => {
  let ddb: TestDynamo;
  // A table that stays CREATING a while, as a busy machine makes it for an instant.
  beforeAll(async () => {
    ddb = await startDynalite({ createTableMs: 150 });
  });
  afterAll(() => ddb?.close());

  it('answers createStateTable only once the table takes items', async () => {
    const table = await ddb.createStateTable('bb-support');
    await expect(ddb.doc.send(new PutCommand({ TableName: table, Item: { pk: 'x', sk: 'y' } }))).resolves.toBeDefined();
  });
});
