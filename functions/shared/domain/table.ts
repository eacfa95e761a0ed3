/**
 * The single-table layout: key attribute names and secondary indexes. Both the CDK stack and the local
 * emulators create the table from this description, so they cannot drift apart.
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

/** Epoch seconds; DynamoDB's TTL deletes expired nonce items. */
export const TTL_ATTRIBUTE = 'expires_at';

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** Every index sorts by `gsi_time_sk` = zero-padded epoch ms of `add_time` + `#` + recording id (newest first when read backwards), except `due`. */
export const INDEXES = {
  byCall: { name: 'by-call', partitionKey: 'gsi_call_pk', sortKey: 'gsi_time_sk' },
  byFrom: { name: 'by-from', partitionKey: 'gsi_from_pk', sortKey: 'gsi_time_sk' },
  byTo: { name: 'by-to', partitionKey: 'gsi_to_pk', sortKey: 'gsi_time_sk' },
  byTime: { name: 'by-time', partitionKey: 'gsi_time_pk', sortKey: 'gsi_time_sk' },
  byStatus: { name: 'by-status', partitionKey: 'gsi_status_pk', sortKey: 'gsi_time_sk' },
  due: { name: 'due', partitionKey: 'gsi_due_pk', sortKey: 'gsi_due_sk' },
} as const satisfies Record<string, IndexDefinition>;

/**
 * Write sharding for the indexes whose partition key would otherwise be one constant: every recording
 * lands in one of N partitions chosen by a hash of its id, so a busy day spreads over N partitions, and
 * a listing queries the N shards and merges them (cost: N × page, independent of table size).
 */
export const TIME_SHARDS = 8;
export const DUE_SHARDS = 4;
