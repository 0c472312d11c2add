/** One committed item of an OpenAI Realtime connection. */
export interface ChainItem {
  readonly id: string;
  /** Its audio on the connection's timeline, when known (VAD spans or the client's commit point). */
  readonly startMs: number | undefined;
  readonly endMs: number | undefined;
  /** The deltas so far. */
  text: string;
  /** The completed transcript, once it came. */
  transcript: string | undefined;
}

/**
 * The items of one connection in the order the server committed them (each
 * `input_audio_buffer.committed` names the item before it in
 * `previous_item_id`), released in that order as their transcriptions
 * complete: a completion waits for its predecessor's, however they arrive.
 * What contradicts the chain (an item committed twice, two items after the
 * same one, an unknown predecessor, a chain that loops back on itself, a delta
 * or a completion for an item never committed or already completed) is
 * reported as a string, for the codec's protocol error.
 */
export class ItemChain {
  private readonly items = new Map<string, ChainItem>();
  /** Predecessor id (null: none) -> the item committed after it. */
  private readonly after = new Map<string | null, string>();
  /** The last item released (or the first item's predecessor); undefined before any commit. */
  private cursor: string | null | undefined;
  private released = 0;

  /** Items committed and not yet released. */
  get pending(): number {
    return this.items.size - this.released;
  }

  /** The next item to release, if committed. */
  head(): ChainItem | undefined {
    if (this.cursor === undefined) return undefined;
    const id = this.after.get(this.cursor);
    return id === undefined ? undefined : this.items.get(id);
  }

  /** An `input_audio_buffer.committed`; returns why it cannot be, if it cannot. */
  commit(
    id: string,
    previous: string | null,
    span: { startMs?: number; endMs?: number },
  ): string | undefined {
    if (this.items.has(id)) return `item ${id} committed twice`;
    // A chain that comes back on itself would be released round and round, never ending.
    if (previous === id) return `item ${id} committed after itself`;
    if (this.after.has(id)) {
      return `item ${id} committed after ${previous ?? 'no item'}, though item ${this.after.get(id)} was committed after it: the chain would loop`;
    }
    if (this.cursor === undefined) {
      // The first item: whatever came before it on the server is not this connection's.
      this.cursor = previous;
    } else if (previous === null || (!this.items.has(previous) && previous !== this.cursor)) {
      return `item ${id} committed after ${previous === null ? 'no item' : `unknown item ${previous}`}, though items were committed before it`;
    }
    if (this.after.has(previous)) {
      return `item ${id} committed after ${previous ?? 'no item'}, which item ${this.after.get(previous)} already follows`;
    }
    this.after.set(previous, id);
    this.items.set(id, { id, startMs: span.startMs, endMs: span.endMs, text: '', transcript: undefined });
    return undefined;
  }

  /** A delta for an item; returns the item, or why it cannot be. */
  delta(id: string, delta: string): ChainItem | string {
    const item = this.items.get(id);
    if (item === undefined) return `a transcription delta for item ${id}, which was never committed`;
    if (item.transcript !== undefined) return `a transcription delta for item ${id} after its completion`;
    item.text += delta;
    return item;
  }

  /** A completion; returns the items it releases, in order (none while an earlier one waits), or why it cannot be. */
  complete(id: string, transcript: string): ChainItem[] | string {
    const item = this.items.get(id);
    if (item === undefined) return `a completed transcription for item ${id}, which was never committed`;
    if (item.transcript !== undefined) return `a second completed transcription for item ${id}`;
    item.transcript = transcript;
    const out: ChainItem[] = [];
    for (let next = this.head(); next?.transcript !== undefined; next = this.head()) {
      out.push(next);
      this.cursor = next.id;
      this.released += 1;
    }
    return out;
  }
}
