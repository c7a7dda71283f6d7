/** What a live media playlist lists. */
export interface PlaylistInput {
  fragments: ReadonlyArray<{ msn: number; cc: number; duration: number; pdt: number; disc: boolean }>;
  targetDuration: number;
  ended: boolean;
  startOffset?: number;
}

/** The URI of fragment `msn`, relative to the playlist. */
export function fragmentUri(msn: number): string {
  return `seq/${msn}.ts`;
}

/** Reads the media sequence number back from a fragment URL, or returns undefined. */
export function msnFromUrl(url: string): number | undefined {
  const m = /\/seq\/(\d+)\.ts(?:[?#]|$)/.exec(url);
  return m ? Number(m[1]) : undefined;
}

/**
 * Renders a live media playlist: media sequence and discontinuity sequence of the first
 * fragment, a program date-time for each fragment, `EXT-X-DISCONTINUITY` before every
 * later fragment that starts a new discontinuity, `CAN-BLOCK-RELOAD=YES`, and
 * `EXT-X-ENDLIST` once the stream ended.
 */
export function renderPlaylist(p: PlaylistInput): string {
  const first = p.fragments[0];
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:6",
    `#EXT-X-TARGETDURATION:${p.targetDuration}`,
    "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES",
  ];
  if (p.startOffset !== undefined && Number.isFinite(p.startOffset)) {
    lines.push(`#EXT-X-START:TIME-OFFSET=${seconds(p.startOffset)}`);
  }
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${first ? first.msn : 0}`);
  lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${first ? first.cc : 0}`);
  let cc = first ? first.cc : 0;
  for (const f of p.fragments) {
    if (f.cc !== cc) {
      lines.push("#EXT-X-DISCONTINUITY");
      cc = f.cc;
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(f.pdt).toISOString()}`);
    lines.push(`#EXTINF:${seconds(f.duration)},`);
    lines.push(fragmentUri(f.msn));
  }
  if (p.ended) lines.push("#EXT-X-ENDLIST");
  return lines.join("\n") + "\n";
}

function seconds(d: number): string {
  const s = d.toFixed(5).replace(/0+$/, "").replace(/\.$/, "");
  return s === "-0" ? "0" : s;
}
