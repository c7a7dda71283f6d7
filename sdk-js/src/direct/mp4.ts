/**
 * Just enough ISO BMFF (MP4) reading for the direct mode: the codecs of an fMP4/CMAF
 * initialization segment (`ftyp` + `moov`) as an RFC 6381 `codecs` string for Media
 * Source Extensions, and the media time range of a `moof` + `mdat` chunk.
 *
 * Nothing here trusts an offset: a truncated or malformed box ends the walk and the
 * functions return `null` or leave a field out.
 */

/** One track of an initialization segment. */
export interface TrackInfo {
  /** `track_ID`. */
  id: number;
  /** From the handler (`vide`, `soun`). */
  kind: "video" | "audio" | "other";
  /** Ticks per second of the track's media time. */
  timescale: number;
  /**
   * RFC 6381 codec, e.g. `avc1.42c01e`, `hvc1.1.6.L30.90`, `mp4a.40.2`, `opus`; the
   * sample entry's four-character code when it is not one this module knows.
   */
  codec: string;
  /** Pixels (video). */
  width?: number;
  height?: number;
  /** Audio channels and sample rate in Hz, as the sample entry says (audio; ISO files may say 2 channels for mono). */
  channels?: number;
  sampleRate?: number;
  /** `trex` defaults, used when a fragment does not carry its own. */
  defaultSampleDuration: number;
  defaultSampleFlags: number;
}

/** What the direct mode needs from an initialization segment. */
export interface InitInfo {
  tracks: TrackInfo[];
  /**
   * The MIME type for `MediaSource.isTypeSupported` and `addSourceBuffer`, all tracks
   * in one: `video/mp4; codecs="avc1.42c01e,mp4a.40.2"` (`audio/mp4` without video).
   */
  mimeType: string;
}

/** One track's share of a `moof` + `mdat` chunk. */
export interface ChunkTrack {
  id: number;
  /** Decode time of the first sample, in seconds (`tfdt` / timescale). */
  start: number;
  /** Sum of the sample durations, in seconds. */
  duration: number;
  /** Samples in the chunk. */
  samples: number;
  /** The first sample is a sync sample (a key frame). */
  startsWithSync: boolean;
}

/** The media time a chunk (one or more `moof` + `mdat` pairs) covers. */
export interface ChunkInfo {
  tracks: ChunkTrack[];
  /** Seconds: the video track's range, or the first track's without video. */
  start: number;
  end: number;
  /** The range track's first sample is a key frame. */
  independent: boolean;
}

interface Box {
  type: string;
  /** Offset of the payload (after the header). */
  body: number;
  /** Offset just past the box. */
  end: number;
}

/** The boxes between `start` and `end`; stops at the first one that does not fit. */
function children(v: DataView, start: number, end: number): Box[] {
  const out: Box[] = [];
  let o = start;
  while (o + 8 <= end) {
    let size = v.getUint32(o);
    const type = fourcc(v, o + 4);
    let body = o + 8;
    if (size === 1) {
      if (o + 16 > end) break;
      size = u64(v, o + 8);
      body = o + 16;
    } else if (size === 0) {
      size = end - o;
    }
    if (size < body - o || o + size > end) break;
    out.push({ type, body, end: o + size });
    o += size;
  }
  return out;
}

function find(v: DataView, parent: Box, type: string): Box | undefined {
  return children(v, parent.body, parent.end).find((b) => b.type === type);
}

/** The box at `path` (e.g. `["mdia", "minf", "stbl"]`) below `parent`. */
function path(v: DataView, parent: Box, types: string[]): Box | undefined {
  let b: Box | undefined = parent;
  for (const t of types) {
    if (!b) return undefined;
    b = find(v, b, t);
  }
  return b;
}

function fourcc(v: DataView, o: number): string {
  return String.fromCharCode(v.getUint8(o), v.getUint8(o + 1), v.getUint8(o + 2), v.getUint8(o + 3));
}

function u64(v: DataView, o: number): number {
  return v.getUint32(o) * 0x1_0000_0000 + v.getUint32(o + 4);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function viewOf(data: ArrayBuffer | ArrayBufferView): DataView {
  return data instanceof ArrayBuffer ? new DataView(data) : new DataView(data.buffer, data.byteOffset, data.byteLength);
}

/** The top-level boxes' types, in order (`["ftyp", "moov"]`); stops at a malformed box. */
export function topLevelBoxes(data: ArrayBuffer | ArrayBufferView): string[] {
  const v = viewOf(data);
  return children(v, 0, v.byteLength).map((b) => b.type);
}

/** Whether `data` looks like MPEG-TS (sync byte 0x47 every 188 bytes). */
export function isMpegTs(data: ArrayBuffer | ArrayBufferView): boolean {
  const v = viewOf(data);
  if (v.byteLength < 1 || v.getUint8(0) !== 0x47) return false;
  for (let o = 188; o < Math.min(v.byteLength, 188 * 4); o += 188) {
    if (v.getUint8(o) !== 0x47) return false;
  }
  return true;
}

/**
 * Reads an initialization segment: its tracks and their codecs. `null` if `data` has
 * no readable `moov` with at least one track.
 */
export function parseInit(data: ArrayBuffer | ArrayBufferView): InitInfo | null {
  const v = viewOf(data);
  try {
    const moov = children(v, 0, v.byteLength).find((b) => b.type === "moov");
    if (!moov) return null;
    const boxes = children(v, moov.body, moov.end);
    const trex = new Map<number, { duration: number; flags: number }>();
    const mvex = boxes.find((b) => b.type === "mvex");
    if (mvex) {
      for (const b of children(v, mvex.body, mvex.end)) {
        // trex: version/flags, track_ID, sample_description_index, duration, size, flags
        if (b.type === "trex" && b.end - b.body >= 24) {
          trex.set(v.getUint32(b.body + 4), { duration: v.getUint32(b.body + 12), flags: v.getUint32(b.body + 20) });
        }
      }
    }
    const tracks: TrackInfo[] = [];
    for (const trak of boxes.filter((b) => b.type === "trak")) {
      const t = parseTrak(v, trak);
      if (!t) continue;
      const d = trex.get(t.id);
      tracks.push({ ...t, defaultSampleDuration: d?.duration ?? 0, defaultSampleFlags: d?.flags ?? 0 });
    }
    if (tracks.length === 0) return null;
    return { tracks, mimeType: mimeTypeOf(tracks) };
  } catch {
    // A DataView read past the end: a box lied about its contents.
    return null;
  }
}

/** The MIME type with the codecs of `tracks` (video and audio tracks only). */
export function mimeTypeOf(tracks: readonly TrackInfo[]): string {
  const media = tracks.filter((t) => t.kind !== "other");
  const hasVideo = media.some((t) => t.kind === "video");
  return `${hasVideo ? "video" : "audio"}/mp4; codecs="${media.map((t) => t.codec).join(",")}"`;
}

type TrackBase = Omit<TrackInfo, "defaultSampleDuration" | "defaultSampleFlags">;

function parseTrak(v: DataView, trak: Box): TrackBase | null {
  const tkhd = find(v, trak, "tkhd");
  const mdhd = path(v, trak, ["mdia", "mdhd"]);
  const hdlr = path(v, trak, ["mdia", "hdlr"]);
  const stsd = path(v, trak, ["mdia", "minf", "stbl", "stsd"]);
  if (!tkhd || !mdhd || !hdlr || !stsd) return null;
  const id = v.getUint32(tkhd.body + (v.getUint8(tkhd.body) === 1 ? 20 : 12));
  const timescale = v.getUint32(mdhd.body + (v.getUint8(mdhd.body) === 1 ? 20 : 12));
  const handler = fourcc(v, hdlr.body + 8);
  const kind = handler === "vide" ? "video" : handler === "soun" ? "audio" : "other";
  // stsd: version/flags, entry_count, then the sample entries; the first one describes the track.
  const entry = children(v, stsd.body + 8, stsd.end)[0];
  if (!entry || timescale === 0) return null;
  const track: TrackBase = { id, kind, timescale, codec: entry.type };
  if (kind === "video") readVisualEntry(v, entry, track);
  else if (kind === "audio") readAudioEntry(v, entry, track);
  return track;
}

// A VisualSampleEntry: 8 bytes of SampleEntry, then 16 reserved, width and height at
// 24 and 26, and its child boxes from 78.
function readVisualEntry(v: DataView, entry: Box, track: TrackBase): void {
  track.width = v.getUint16(entry.body + 24);
  track.height = v.getUint16(entry.body + 26);
  let type = entry.type;
  let boxes = children(v, entry.body + 78, entry.end);
  if (type === "encv") {
    // Encrypted: the original format is in sinf/frma.
    const frma = boxes.find((b) => b.type === "sinf");
    const f = frma && find(v, frma, "frma");
    if (f) type = fourcc(v, f.body);
  }
  boxes = boxes.filter((b) => b.type !== "sinf");
  const config = (t: string): Box | undefined => boxes.find((b) => b.type === t);
  switch (type) {
    case "avc1":
    case "avc2":
    case "avc3":
    case "avc4": {
      const c = config("avcC");
      // avcC: configurationVersion, AVCProfileIndication, profile_compatibility, AVCLevelIndication
      if (c && c.end - c.body >= 4) track.codec = `${type}.${hex2(v.getUint8(c.body + 1))}${hex2(v.getUint8(c.body + 2))}${hex2(v.getUint8(c.body + 3))}`;
      else track.codec = type;
      return;
    }
    case "hvc1":
    case "hev1": {
      const c = config("hvcC");
      track.codec = c && c.end - c.body >= 13 ? hevcCodec(v, type, c.body) : type;
      return;
    }
    case "vp09": {
      // vpcC (a FullBox): profile, level, bitDepth(4) chromaSubsampling(3) fullRange(1)
      const c = config("vpcC");
      if (c && c.end - c.body >= 7) {
        const two = (n: number): string => String(n).padStart(2, "0");
        track.codec = `vp09.${two(v.getUint8(c.body + 4))}.${two(v.getUint8(c.body + 5))}.${two(v.getUint8(c.body + 6) >> 4)}`;
      } else track.codec = type;
      return;
    }
    case "av01": {
      // av1C: marker/version, seq_profile(3) seq_level_idx_0(5), seq_tier_0(1) high_bitdepth(1) twelve_bit(1) ...
      const c = config("av1C");
      if (c && c.end - c.body >= 3) {
        const b1 = v.getUint8(c.body + 1);
        const b2 = v.getUint8(c.body + 2);
        const depth = b2 & 0x40 ? (b2 & 0x20 ? 12 : 10) : 8;
        track.codec = `av01.${b1 >> 5}.${String(b1 & 0x1f).padStart(2, "0")}${b2 & 0x80 ? "H" : "M"}.${String(depth).padStart(2, "0")}`;
      } else track.codec = type;
      return;
    }
    default:
      track.codec = type;
  }
}

/** ISO/IEC 14496-15 annex E: `hvc1.1.6.L93.B0`. */
function hevcCodec(v: DataView, type: string, o: number): string {
  const b1 = v.getUint8(o + 1);
  const space = ["", "A", "B", "C"][b1 >> 6] ?? "";
  const tier = b1 & 0x20 ? "H" : "L";
  const profile = b1 & 0x1f;
  // The 32 compatibility flags in reverse bit order, in hex without leading zeros.
  const flags = v.getUint32(o + 2);
  let reversed = 0;
  for (let i = 0; i < 32; i++) if (flags & (1 << i)) reversed |= 1 << (31 - i);
  const level = v.getUint8(o + 12);
  const constraints: number[] = [];
  for (let i = 0; i < 6; i++) constraints.push(v.getUint8(o + 6 + i));
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  const tail = constraints.map((c) => `.${c.toString(16).toUpperCase()}`).join("");
  return `${type}.${space}${profile}.${(reversed >>> 0).toString(16).toUpperCase()}.${tier}${level}${tail}`;
}

// An AudioSampleEntry: 8 bytes of SampleEntry, version (QuickTime sound v1/v2 are
// longer), channelcount at 16, samplerate (16.16) at 24, child boxes from 28.
function readAudioEntry(v: DataView, entry: Box, track: TrackBase): void {
  const version = v.getUint16(entry.body + 8);
  track.channels = v.getUint16(entry.body + 16);
  track.sampleRate = v.getUint16(entry.body + 24);
  const childStart = entry.body + 28 + (version === 1 ? 16 : version === 2 ? 36 : 0);
  let type = entry.type;
  const boxes = children(v, childStart, entry.end);
  if (type === "enca") {
    const sinf = boxes.find((b) => b.type === "sinf");
    const f = sinf && find(v, sinf, "frma");
    if (f) type = fourcc(v, f.body);
  }
  switch (type) {
    case "mp4a": {
      const esds = boxes.find((b) => b.type === "esds");
      track.codec = (esds && mp4aCodec(v, esds.body + 4, esds.end)) ?? "mp4a.40.2";
      return;
    }
    case "Opus":
      track.codec = "opus";
      return;
    case "fLaC":
      track.codec = "flac";
      return;
    case "ac-3":
    case "ec-3":
      track.codec = type;
      return;
    default:
      track.codec = type;
  }
}

/** Walks the esds descriptors to `mp4a.OTI[.AOT]`. */
function mp4aCodec(v: DataView, start: number, end: number): string | null {
  let o = start;
  let oti = -1;
  // A descriptor: tag, then a size in 1-4 bytes of 7 bits.
  const header = (): { tag: number; size: number } | null => {
    if (o >= end) return null;
    const tag = v.getUint8(o++);
    let size = 0;
    for (let i = 0; i < 4 && o < end; i++) {
      const b = v.getUint8(o++);
      size = (size << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    return { tag, size };
  };
  while (o < end) {
    const d = header();
    if (!d) break;
    if (d.tag === 0x03) {
      // ES_Descriptor: ES_ID, flags, then optional fields; its children follow.
      const flags = v.getUint8(o + 2);
      o += 3;
      if (flags & 0x80) o += 2;
      if (flags & 0x40) o += 1 + v.getUint8(o);
      if (flags & 0x20) o += 2;
    } else if (d.tag === 0x04) {
      // DecoderConfigDescriptor: objectTypeIndication, then 12 bytes; DecoderSpecificInfo follows.
      oti = v.getUint8(o);
      o += 13;
    } else if (d.tag === 0x05) {
      if (oti < 0 || d.size < 1) break;
      // AudioSpecificConfig: audioObjectType in 5 bits, 31 escapes to 32 + 6 more bits.
      let aot = v.getUint8(o) >> 3;
      if (aot === 31 && d.size >= 2) aot = 32 + (((v.getUint8(o) & 0x07) << 3) | (v.getUint8(o + 1) >> 5));
      return `mp4a.${hex2(oti)}.${aot}`;
    } else {
      o += d.size;
    }
  }
  return oti >= 0 ? `mp4a.${hex2(oti)}` : null;
}

/**
 * Reads the media time of a chunk: each `moof`'s `traf`s (`tfhd`, `tfdt`, `trun`), with
 * the track timescales and defaults of `init`. `null` if `data` holds no `moof` with a
 * `tfdt` for a track of `init`.
 */
export function parseChunk(data: ArrayBuffer | ArrayBufferView, init: InitInfo): ChunkInfo | null {
  const v = viewOf(data);
  const byId = new Map(init.tracks.map((t) => [t.id, t]));
  const acc = new Map<number, { start: number; end: number; samples: number; sync: boolean; scale: number }>();
  try {
    for (const moof of children(v, 0, v.byteLength)) {
      if (moof.type !== "moof") continue;
      for (const traf of children(v, moof.body, moof.end)) {
        if (traf.type !== "traf") continue;
        const r = readTraf(v, traf, byId);
        if (!r) continue;
        const a = acc.get(r.id);
        if (!a) acc.set(r.id, { start: r.base, end: r.base + r.duration, samples: r.samples, sync: r.sync, scale: r.scale });
        else {
          a.start = Math.min(a.start, r.base);
          a.end = Math.max(a.end, r.base + r.duration);
          a.samples += r.samples;
        }
      }
    }
  } catch {
    return null;
  }
  if (acc.size === 0) return null;
  const tracks: ChunkTrack[] = [];
  for (const [id, a] of acc) {
    tracks.push({ id, start: a.start / a.scale, duration: (a.end - a.start) / a.scale, samples: a.samples, startsWithSync: a.sync });
  }
  const video = init.tracks.find((t) => t.kind === "video" && acc.has(t.id));
  const mainId = video?.id ?? tracks[0]?.id;
  const main = tracks.find((t) => t.id === mainId);
  const ticks = mainId !== undefined ? acc.get(mainId) : undefined;
  if (!main || !ticks) return null;
  // The end from ticks, so that it equals the next chunk's start exactly.
  return { tracks, start: main.start, end: ticks.end / ticks.scale, independent: main.startsWithSync };
}

const TFHD_BASE_DATA_OFFSET = 0x01;
const TFHD_SAMPLE_DESCRIPTION = 0x02;
const TFHD_DEFAULT_DURATION = 0x08;
const TFHD_DEFAULT_SIZE = 0x10;
const TFHD_DEFAULT_FLAGS = 0x20;
const TRUN_DATA_OFFSET = 0x01;
const TRUN_FIRST_FLAGS = 0x04;
const TRUN_DURATION = 0x100;
const TRUN_SIZE = 0x200;
const TRUN_FLAGS = 0x400;
const TRUN_CTS = 0x800;
const SAMPLE_IS_NON_SYNC = 0x10000;

function readTraf(
  v: DataView,
  traf: Box,
  byId: Map<number, TrackInfo>,
): { id: number; base: number; duration: number; samples: number; sync: boolean; scale: number } | null {
  const boxes = children(v, traf.body, traf.end);
  const tfhd = boxes.find((b) => b.type === "tfhd");
  const tfdt = boxes.find((b) => b.type === "tfdt");
  if (!tfhd || !tfdt) return null;
  const tfhdFlags = v.getUint32(tfhd.body) & 0xffffff;
  const id = v.getUint32(tfhd.body + 4);
  const track = byId.get(id);
  if (!track) return null;
  let o = tfhd.body + 8;
  if (tfhdFlags & TFHD_BASE_DATA_OFFSET) o += 8;
  if (tfhdFlags & TFHD_SAMPLE_DESCRIPTION) o += 4;
  let defaultDuration = track.defaultSampleDuration;
  let defaultFlags = track.defaultSampleFlags;
  if (tfhdFlags & TFHD_DEFAULT_DURATION) {
    defaultDuration = v.getUint32(o);
    o += 4;
  }
  if (tfhdFlags & TFHD_DEFAULT_SIZE) o += 4;
  if (tfhdFlags & TFHD_DEFAULT_FLAGS) defaultFlags = v.getUint32(o);
  const base = v.getUint8(tfdt.body) === 1 ? u64(v, tfdt.body + 4) : v.getUint32(tfdt.body + 4);
  let duration = 0;
  let samples = 0;
  let firstFlags: number | undefined;
  for (const trun of boxes) {
    if (trun.type !== "trun") continue;
    const flags = v.getUint32(trun.body) & 0xffffff;
    const count = v.getUint32(trun.body + 4);
    let p = trun.body + 8;
    if (flags & TRUN_DATA_OFFSET) p += 4;
    let first: number | undefined;
    if (flags & TRUN_FIRST_FLAGS) {
      first = v.getUint32(p);
      p += 4;
    }
    const stride = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTS].filter((f) => flags & f).length * 4;
    if (p + count * stride > trun.end) return null;
    for (let i = 0; i < count; i++, p += stride) {
      duration += flags & TRUN_DURATION ? v.getUint32(p) : defaultDuration;
      if (samples + i === 0) {
        const q = p + (flags & TRUN_DURATION ? 4 : 0) + (flags & TRUN_SIZE ? 4 : 0);
        firstFlags = first ?? (flags & TRUN_FLAGS ? v.getUint32(q) : defaultFlags);
      }
    }
    samples += count;
  }
  return { id, base, duration, samples, sync: firstFlags !== undefined && (firstFlags & SAMPLE_IS_NON_SYNC) === 0, scale: track.timescale };
}
