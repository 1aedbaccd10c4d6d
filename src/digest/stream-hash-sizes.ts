/**
 * Chunks go to the hashing thread in batches of at least this many bytes (a socket read is at
 * most 64 KiB): one message to the thread and one back per batch.
 */
export const BATCH_BYTES = 1 << 20;

/** Batches of one stream read and not yet written and hashed: the stream pauses beyond this. */
export const BATCHES_IN_FLIGHT = 2;

/**
 * A batch is written to the copy in calls of about this many bytes (several chunks per call):
 * on the bench machine's ext4 (a VM) 1 MiB writes cost the kernel about 1.6x the CPU of 256 KiB
 * ones, and a call per 64 KiB chunk costs more calls than it saves (bench/README.md, pull).
 */
export const WRITE_BYTES = 256 << 10;
