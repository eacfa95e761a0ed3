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

/**
 * Every index sorts by `gsi_time_sk` = zero-padded epoch ms of `add_time` + `#` + recording id (newest
 * first when read backwards), except `due` and `expiry`.
 *
 * `due` is the table's "something is due at a time" index, sparse, with two families of partitions: a
 * `pending` record waits for its next archive attempt in `DUE#<shard>` (the re-drive), a `stored` record
 * not yet deleted at Vobiz waits in `VDEL#<shard>`, sorted by when it was archived (the lifecycle's
 * verified delete at Vobiz). A record is never both. `expiry` holds the stored records that retention
 * may remove, sorted by `add_time`. Held records (legal hold) are in neither: they are in `held`, a
 * sparse index of the records on legal hold only, so that "is anything held?" (destroy refuses then) is
 * a read of a few keys, never a pass over every stored record.
 *
 * `by-call` also lists each recording's audit entries, newest first, under `RECAUDIT#<recording_id>`
 * partitions (domain/audit.ts), apart from the recordings' `CALL#<call_uuid>` partitions.
 */
export const INDEXES = {
  byCall: { name: 'by-call', partitionKey: 'gsi_call_pk', sortKey: 'gsi_time_sk' },
  byFrom: { name: 'by-from', partitionKey: 'gsi_from_pk', sortKey: 'gsi_time_sk' },
  byTo: { name: 'by-to', partitionKey: 'gsi_to_pk', sortKey: 'gsi_time_sk' },
  byTime: { name: 'by-time', partitionKey: 'gsi_time_pk', sortKey: 'gsi_time_sk' },
  byStatus: { name: 'by-status', partitionKey: 'gsi_status_pk', sortKey: 'gsi_time_sk' },
  due: { name: 'due', partitionKey: 'gsi_due_pk', sortKey: 'gsi_due_sk' },
  expiry: { name: 'expiry', partitionKey: 'gsi_exp_pk', sortKey: 'gsi_exp_sk' },
  held: { name: 'held', partitionKey: 'gsi_hold_pk', sortKey: 'gsi_time_sk' },
} as const satisfies Record<string, IndexDefinition>;

/**
 * Write sharding for the indexes whose partition key would otherwise be one constant: every recording
 * lands in one of N partitions chosen by a hash of its id, so a busy day spreads over N partitions, and
 * a listing queries the N shards and merges them (cost: N × page, independent of table size).
 */
export const TIME_SHARDS = 8;
export const DUE_SHARDS = 4;
export const EXPIRY_SHARDS = 4;
/** Legal holds are few; a litigation hold over one number's calls still spreads over these partitions. */
export const HOLD_SHARDS = 4;
/** Audit items live in the table itself (no index) under this many partitions, merged when read. */
export const AUDIT_SHARDS = 4;
