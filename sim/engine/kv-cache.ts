/**
 * The paged KV cache: `numBlocks` blocks of `blockSize` tokens, allocated to a
 * request as its context grows (vLLM's KVCacheManager). With prefix caching,
 * full prompt blocks are indexed by a chained hash; a freed block keeps its
 * contents and sits in an LRU of evictable blocks until it is reused, so a
 * later request with the same prefix skips computing it.
 */
export class KvCache {
  readonly numBlocks: number;
  readonly blockSize: number;
  private readonly freeBlocks: number[] = [];
  private readonly refCount: Int32Array;
  private readonly blockHash: (number | undefined)[];
  private readonly byHash = new Map<number, number>();
  /** Cached blocks with no owner, oldest first (Map keeps insertion order). */
  private readonly evictable = new Map<number, true>();
  private readonly tables = new Map<string, number[]>();
  private used = 0;

  constructor(numBlocks: number, blockSize: number) {
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.refCount = new Int32Array(numBlocks);
    this.blockHash = new Array(numBlocks).fill(undefined);
    for (let b = numBlocks - 1; b >= 0; b--) this.freeBlocks.push(b);
  }

  /** Fraction of blocks owned by running requests (vllm:kv_cache_usage_perc). */
  usage(): number {
    return this.numBlocks === 0 ? 0 : this.used / this.numBlocks;
  }

  usedBlocks(): number {
    return this.used;
  }

  /** Blocks a request could still get: never used, or cached but unowned. */
  availableBlocks(): number {
    return this.freeBlocks.length + this.evictable.size;
  }

  blocksOf(requestId: string): number {
    return this.tables.get(requestId)?.length ?? 0;
  }

  blocksNeeded(tokens: number): number {
    return Math.ceil(tokens / this.blockSize);
  }

  /**
   * Claim the longest run of cached leading blocks for a request that owns no
   * blocks yet; returns how many blocks were hits.
   */
  claimCachedPrefix(requestId: string, hashes: readonly number[]): number {
    const table = this.tableOf(requestId);
    if (table.length > 0) return 0;
    for (const hash of hashes) {
      const block = this.byHash.get(hash);
      if (block === undefined) break;
      this.own(block);
      table.push(block);
    }
    return table.length;
  }

  /** Give back the last `count` blocks of a request (a cache hit that must be recomputed). */
  releaseTail(requestId: string, count: number): void {
    const table = this.tableOf(requestId);
    for (let i = 0; i < count && table.length > 0; i++) this.disown(table.pop() as number);
  }

  /** Grow a request's table to hold `totalTokens`; false (and no change) when blocks run out. */
  allocate(requestId: string, totalTokens: number): boolean {
    const table = this.tableOf(requestId);
    const need = this.blocksNeeded(totalTokens) - table.length;
    if (need <= 0) return true;
    if (need > this.availableBlocks()) return false;
    for (let i = 0; i < need; i++) {
      const block = this.takeFreeBlock();
      this.own(block);
      table.push(block);
    }
    return true;
  }

  /** Index the request's first full blocks by hash so later requests can reuse them. */
  registerHashes(requestId: string, hashes: readonly number[]): void {
    const table = this.tables.get(requestId);
    if (!table) return;
    const count = Math.min(hashes.length, table.length);
    for (let i = 0; i < count; i++) {
      const block = table[i] as number;
      const hash = hashes[i] as number;
      if (this.blockHash[block] !== undefined || this.byHash.has(hash)) continue;
      this.blockHash[block] = hash;
      this.byHash.set(hash, block);
    }
  }

  /** Release every block of a request (finish, abort or preemption). */
  free(requestId: string): void {
    const table = this.tables.get(requestId);
    if (!table) return;
    // Reverse order: the tail of a sequence is the least likely to be shared, so evict it first.
    for (let i = table.length - 1; i >= 0; i--) this.disown(table[i] as number);
    this.tables.delete(requestId);
  }

  private tableOf(requestId: string): number[] {
    let table = this.tables.get(requestId);
    if (!table) {
      table = [];
      this.tables.set(requestId, table);
    }
    return table;
  }

  private own(block: number): void {
    if (this.refCount[block] === 0) {
      this.used++;
      this.evictable.delete(block);
    }
    this.refCount[block] = (this.refCount[block] as number) + 1;
  }

  private disown(block: number): void {
    const left = (this.refCount[block] as number) - 1;
    this.refCount[block] = left;
    if (left > 0) return;
    this.used--;
    if (this.blockHash[block] !== undefined) this.evictable.set(block, true);
    else this.freeBlocks.push(block);
  }

  private takeFreeBlock(): number {
    const block = this.freeBlocks.pop();
    if (block !== undefined) return block;
    const [oldest] = this.evictable.keys();
    if (oldest === undefined) throw new Error("kv-cache: no block available (checked before)");
    this.evictable.delete(oldest);
    const hash = this.blockHash[oldest];
    if (hash !== undefined) this.byHash.delete(hash);
    this.blockHash[oldest] = undefined;
    return oldest;
  }
}

/** Chained hashes of the full blocks of a prompt: block i's hash covers tokens [0, (i+1)·size). */
export function prefixBlockHashes(tokenIds: readonly number[], blockSize: number): number[] {
  const hashes: number[] = [];
  let h = 0x811c9dc5;
  let h2 = 0x01000193;
  const full = Math.floor(tokenIds.length / blockSize);
  for (let b = 0; b < full; b++) {
    for (let i = b * blockSize; i < (b + 1) * blockSize; i++) {
      const t = tokenIds[i] as number;
      h = Math.imul(h ^ t, 0x01000193);
      h2 = Math.imul(h2 ^ (t + 0x9e3779b9), 0x85ebca6b);
    }
    // 52 bits from two independent 32-bit lanes: collisions are negligible.
    hashes.push((h >>> 0) * 1048576 + ((h2 >>> 0) & 0xfffff));
  }
  return hashes;
}
