/** A part listed in a low-latency playlist: `index` is the relay's number of the part in its fragment. */
export interface PlaylistPart {
  index: number;
  duration: number;
  independent: boolean;
}

/** A segment of the playlist: a fragment, or (in `lowLatency.open`) the one being received in parts. */
export interface PlaylistSegment {
  msn: number;
  cc: number;
  duration: number;
  pdt: number;
  disc: boolean;
  /** fMP4: the id of its init segment (`EXT-X-MAP`); absent for MPEG-TS. */
  init?: number;
  /** The parts it was received in (listed as `EXT-X-PART` when `msn >= lowLatency.partsFrom`). */
  parts?: ReadonlyArray<PlaylistPart>;
}

/** What a low-latency (LL-HLS) playlist lists besides its segments. */
export interface LowLatencyInput {
  /** `PART-TARGET`, seconds: the longest part. */
  partTarget: number;
  /** `PART-HOLD-BACK`, seconds: how far behind the last part a player starts. */
  partHoldBack: number;
  /** The parts of segments from this media sequence number on are listed. */
  partsFrom: number;
  /** The fragment being received: listed by its parts only, after the segments. */
  open?: PlaylistSegment & { parts: ReadonlyArray<PlaylistPart> };
  /** The part expected next, announced by `EXT-X-PRELOAD-HINT`. */
  next?: { msn: number; index: number };
}

/** What a live media playlist lists. */
export interface PlaylistInput {
  fragments: ReadonlyArray<PlaylistSegment>;
  targetDuration: number;
  ended: boolean;
  startOffset?: number;
  /** Set when the stream arrives in parts: the playlist is then LL-HLS. */
  lowLatency?: LowLatencyInput;
}

/** The URI of fragment `msn`, relative to the playlist: `.ts`, or `.m4s` for fMP4. */
export function fragmentUri(msn: number, fmp4 = false): string {
  return `seq/${msn}.${fmp4 ? "m4s" : "ts"}`;
}

/** The URI of part `index` (the relay's number) of fragment `msn`, relative to the playlist. */
export function partUri(msn: number, index: number): string {
  return `part/${msn}.${index}.m4s`;
}

/** The URI of init segment `id`, relative to the playlist. */
export function initUri(id: number): string {
  return `init/${id}.mp4`;
}

/** Reads the media sequence number back from a fragment URL, or returns undefined. */
export function msnFromUrl(url: string): number | undefined {
  const m = /\/seq\/(\d+)\.(?:ts|m4s)(?:[?#]|$)/.exec(url);
  return m ? Number(m[1]) : undefined;
}

/** What a URL of the playlist names. */
export type PlaylistResource =
  | { kind: "fragment"; msn: number }
  | { kind: "part"; msn: number; index: number }
  | { kind: "init"; id: number };

/** Reads back what a fragment, part or init segment URL names, or returns undefined. */
export function resourceFromUrl(url: string): PlaylistResource | undefined {
  const msn = msnFromUrl(url);
  if (msn !== undefined) return { kind: "fragment", msn };
  const part = /\/part\/(\d+)\.(\d+)\.m4s(?:[?#]|$)/.exec(url);
  if (part) return { kind: "part", msn: Number(part[1]), index: Number(part[2]) };
  const init = /\/init\/(\d+)\.mp4(?:[?#]|$)/.exec(url);
  return init ? { kind: "init", id: Number(init[1]) } : undefined;
}

/**
 * Renders a live media playlist: media sequence and discontinuity sequence of the first
 * fragment, a program date-time for each fragment, `EXT-X-DISCONTINUITY` before every
 * later fragment that starts a new discontinuity, `CAN-BLOCK-RELOAD=YES`, and
 * `EXT-X-ENDLIST` once the stream ended. fMP4 fragments get `EXT-X-MAP` before the first
 * one and wherever the init segment changes.
 *
 * With `lowLatency` it is an LL-HLS playlist (RFC 8216bis): `EXT-X-PART-INF`,
 * `PART-HOLD-BACK`, `EXT-X-PART` for the parts of the newest segments and of the fragment
 * being received, and `EXT-X-PRELOAD-HINT` for the next part.
 */
export function renderPlaylist(p: PlaylistInput): string {
  const ll = p.lowLatency;
  const first = p.fragments[0] ?? ll?.open;
  const lines = [
    "#EXTM3U",
    `#EXT-X-VERSION:${ll ? 9 : 6}`,
    `#EXT-X-TARGETDURATION:${p.targetDuration}`,
    ll
      ? `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${seconds(ll.partHoldBack)}`
      : "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES",
  ];
  if (ll) lines.push(`#EXT-X-PART-INF:PART-TARGET=${seconds(ll.partTarget)}`);
  if (p.startOffset !== undefined && Number.isFinite(p.startOffset)) {
    lines.push(`#EXT-X-START:TIME-OFFSET=${seconds(p.startOffset)}`);
  }
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${first ? first.msn : 0}`);
  lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${first ? first.cc : 0}`);
  let cc = first ? first.cc : 0;
  let init: number | undefined;
  // The tags that open a segment: discontinuity, init segment, date, parts.
  const segmentTags = (f: PlaylistSegment, parts: ReadonlyArray<PlaylistPart> | undefined): void => {
    if (f.cc !== cc) {
      lines.push("#EXT-X-DISCONTINUITY");
      cc = f.cc;
    }
    if (f.init !== undefined && f.init !== init) {
      lines.push(`#EXT-X-MAP:URI="${initUri(f.init)}"`);
      init = f.init;
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(f.pdt).toISOString()}`);
    for (const part of parts ?? []) {
      const independent = part.independent ? ",INDEPENDENT=YES" : "";
      lines.push(`#EXT-X-PART:DURATION=${seconds(part.duration)},URI="${partUri(f.msn, part.index)}"${independent}`);
    }
  };
  for (const f of p.fragments) {
    segmentTags(f, ll && f.msn >= ll.partsFrom ? f.parts : undefined);
    lines.push(`#EXTINF:${seconds(f.duration)},`);
    lines.push(fragmentUri(f.msn, f.init !== undefined));
  }
  if (ll?.open) segmentTags(ll.open, ll.open.parts);
  if (ll?.next && !p.ended) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partUri(ll.next.msn, ll.next.index)}"`);
  if (p.ended) lines.push("#EXT-X-ENDLIST");
  return lines.join("\n") + "\n";
}

function seconds(d: number): string {
  const s = d.toFixed(5).replace(/0+$/, "").replace(/\.$/, "");
  return s === "-0" ? "0" : s;
}
