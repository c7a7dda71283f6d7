/**
 * The parts extension on the client side: what a {@link RelayClient} delivers for an
 * fMP4/CMAF stream sent in parts, and the fragment it is assembling.
 * @module
 */

/** The stream's fMP4 initialization segment (`ftyp` + `moov`), received with the parts extension. */
export interface InitSegment {
  /** The stream instance it belongs to. */
  epoch: string;
  /** Its bytes. Do not modify. */
  data: ArrayBuffer;
  /** `Date.now()` when it arrived. */
  receivedAt: number;
}

/** A part of a fragment: one or more whole `moof`+`mdat` pairs (a CMAF chunk). */
export interface Part {
  /** Sequence number of the fragment it belongs to. */
  seq: number;
  /** Its position in the fragment, from 0. */
  index: number;
  /** The stream instance. */
  epoch: string;
  /** Seconds. */
  duration: number;
  /** It starts with an independent frame (a key frame): a decoder can start here. */
  independent: boolean;
  /** Publish wall-clock time in Unix milliseconds, if the relay sent one. */
  time?: number;
  /** A discontinuity precedes this part (set on the first part of a fragment that follows one). */
  disc: boolean;
  /** Its bytes. Do not modify. */
  data: ArrayBuffer;
  /** `Date.now()` when it arrived. */
  receivedAt: number;
}

/** The fragment being received in parts: the parts received so far, in order, without duplicates. */
export class PartAssembly {
  readonly parts: Part[] = [];

  constructor(
    readonly seq: number,
    readonly epoch: string,
    /** A discontinuity precedes the fragment. */
    readonly disc: boolean,
  ) {}

  /** Whether part `index` comes after every part held (parts older or held are dropped). */
  follows(index: number): boolean {
    const last = this.parts[this.parts.length - 1];
    return last === undefined || index > last.index;
  }

  /** Whether the parts held are all `count` parts of the fragment, 0 to `count`-1. */
  isComplete(count: number): boolean {
    return this.parts.length === count && this.parts.every((p, i) => p.index === i);
  }
}
