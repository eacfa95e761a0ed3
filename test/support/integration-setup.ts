import { afterAll } from 'vitest';
import { dropCreatedTables } from './aws.js';

/**
 * Every integration test file deletes the tables it created when it ends (registered first, this hook
 * runs after the file's own). The files share one DynamoDB Local, which keeps all tables' stream
 * records in one SQLite table and walks the other tables' records on every write: with the tables kept,
 * each file's writes paid for everything written before it (docs/development/testing.md).
 */
afterAll(async () => {
  await dropCreatedTables();
});
