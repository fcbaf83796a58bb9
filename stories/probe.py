"""Read what a media file holds, with PyAV, in a child process that has a time and memory limit.

Run as ``python -m stories.probe PATH [MAX_SECONDS]``: prints one JSON object, either the description of the recording or
``{"error": "..."}`` with a reason a person understands. The parent (stories.media) decides what to accept.
"""

import json
import os
import struct
import sys

# Demuxers we accept, as PyAV names them, and the file ending that names each on disk.
CONTAINERS = {
    "wav": ".wav",
    "mp3": ".mp3",
    "mov,mp4,m4a,3gp,3g2,mj2": ".mp4",
    "ogg": ".ogg",
    "flac": ".flac",
    "matroska,webm": ".webm",
    "amr": ".amr",
    "aac": ".aac",
}
AUDIO_CODECS = {
    "aac", "alac", "amrnb", "amrwb", "amr_nb", "amr_wb", "flac", "mp2", "mp3", "mp3float", "opus", "vorbis",
    "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_u8", "pcm_alaw", "pcm_mulaw",
}  # fmt: skip
VIDEO_CODECS = {"av1", "h263", "h264", "hevc", "mpeg4", "vp8", "vp9"}
# A declared duration this much longer than what the packets reach means the file was cut short.
TRUNCATION_TOLERANCE_SECONDS = 2.0


class Refused(Exception):
    pass


def describe(path: str, max_seconds: float | None = None) -> dict:
    import av

    try:
        container = av.open(
            f"file:{path}", options={"protocol_whitelist": "file", "format_whitelist": ",".join(CONTAINERS)}
        )
    except av.error.FFmpegError as error:
        raise Refused("This file is not an audio or video recording we can read.") from error
    with container:
        if container.format.name not in CONTAINERS:
            raise Refused(f"Files of type “{container.format.long_name}” are not accepted.")
        audio = next((s for s in container.streams.audio if s.codec_context.name in AUDIO_CODECS), None)
        video = next((s for s in container.streams.video if s.codec_context.name in VIDEO_CODECS), None)
        if container.streams.video and video is None and not container.streams.audio:
            raise Refused("The video in this file uses a format we do not accept.")
        if audio is None and video is None:
            raise Refused("This file has no sound or video we can play.")
        declared = container.duration / 1_000_000 if container.duration else None
        if container.format.name == "wav":
            # FFmpeg trims a WAV's declared length to the bytes present, which hides both a cut-off file and an
            # inflated header; read the header's own claim.
            declared = _wav_declared_seconds(path) or declared
        if max_seconds and declared and declared > max_seconds:
            # Refuse on the header's word, before reading hours of packets.
            raise Refused(
                f"This recording says it lasts {declared / 3600:.1f} hours; "
                f"the archive takes recordings of up to {max_seconds / 3600:g} hours."
            )
        reached = _demux_to_end(container)
        if reached <= 0:
            raise Refused("This file holds no sound or pictures; it may be empty or damaged.")
        # A WAV header states its length to the sample; other containers only estimate theirs.
        tolerance = (
            0.25 if container.format.name == "wav" else max(TRUNCATION_TOLERANCE_SECONDS, (declared or 0) * 0.02)
        )
        if declared and declared - reached > tolerance:
            raise Refused(
                f"This file stops at {reached:.0f} seconds but says it lasts {declared:.0f}: it looks cut short. "
                "Please upload the whole file again."
            )
        _decode_start(path, (audio or video).index)
        return {
            "container": container.format.name,
            "extension": CONTAINERS[container.format.name],
            "audio_codec": audio.codec_context.name if audio else "",
            "video_codec": video.codec_context.name if video else "",
            "duration_seconds": round(declared or reached, 3),
            "width": video.codec_context.width if video else None,
            "height": video.codec_context.height if video else None,
            "sample_rate": audio.codec_context.sample_rate if audio else None,
            "channels": audio.codec_context.channels if audio else None,
        }


def _wav_declared_seconds(path: str) -> float | None:
    """The length a WAV header claims (data size over byte rate); None when it cannot tell or streams."""
    size = os.path.getsize(path)
    byte_rate = None
    with open(path, "rb") as wav:
        if wav.read(4) not in (b"RIFF", b"RF64") or len(wav.read(8)) < 8:
            return None
        for _ in range(64):  # a WAV has a handful of chunks; do not walk a hostile file for ever
            header = wav.read(8)
            if len(header) < 8:
                return None
            name, length = header[:4], struct.unpack("<I", header[4:])[0]
            if name == b"fmt ":
                fmt = wav.read(min(length, 16))
                if len(fmt) >= 12:
                    byte_rate = struct.unpack("<I", fmt[8:12])[0]
                wav.seek(length - len(fmt) + (length % 2), os.SEEK_CUR)
            elif name == b"data":
                if not byte_rate or length in (0, 0xFFFFFFFF):
                    return None
                return length / byte_rate
            else:
                wav.seek(length + (length % 2), os.SEEK_CUR)
            if wav.tell() > size:
                return None
    return None


def _demux_to_end(container) -> float:
    """Read every packet header (no decoding) and return the latest time reached, in seconds."""
    import av

    reached = 0.0
    try:
        for packet in container.demux():
            if packet.pts is None or packet.time_base is None:
                continue
            end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            reached = max(reached, end)
    except av.error.FFmpegError as error:
        raise Refused("This file is damaged partway through. Please upload it again.") from error
    return reached


def _decode_start(path: str, stream_index: int) -> None:
    """Decode the first few frames, so a file that only looks like a recording is caught."""
    import av

    with av.open(f"file:{path}", options={"protocol_whitelist": "file"}) as container:
        decoded = 0
        try:
            for _frame in container.decode(container.streams[stream_index]):
                decoded += 1
                if decoded >= 5:
                    break
        except av.error.FFmpegError as error:
            raise Refused("The sound or pictures in this file cannot be read.") from error
        if decoded == 0:
            raise Refused("The sound or pictures in this file cannot be read.")


def main(argv: list[str]) -> int:
    try:
        result = describe(argv[1], float(argv[2]) if len(argv) > 2 else None)
    except Refused as refusal:
        result = {"error": str(refusal)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
