"""What browsers play: an AAC access copy for listening and a poster frame for video, made with PyAV and Pillow.

The original is the preservation master and is never rewritten. No tags are copied into the access copy, so a
phone's location or a recorder's comment never reaches the public.
"""

import fractions
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

ACCESS_BIT_RATE = 64_000
ACCESS_SAMPLE_RATE = 44_100
ACCESS_CONTENT_TYPE = "audio/mp4"
# Video browsers play as uploaded; anything else (mpeg4 part 2, h263, hevc, amr sound) plays as the audio copy.
BROWSER_VIDEO_CODECS = {"h264", "vp8", "vp9", "av1"}
BROWSER_AUDIO_CODECS = {"", "aac", "mp3", "mp3float", "opus", "vorbis", "flac"}
POSTER_AT_SECONDS = 1.0


class PlaybackFailed(ValueError):
    """The recording's sound or pictures could not be read to make a copy; the message says so plainly."""


def browsers_play_original(*, video_codec: str, audio_codec: str, file_name: str) -> bool:
    return (
        video_codec in BROWSER_VIDEO_CODECS
        and audio_codec in BROWSER_AUDIO_CODECS
        and Path(file_name).suffix.lower() in {".mp4", ".webm"}
    )


def access_copy_write(*, source: Path, destination: Path) -> None:
    """Encode the first sound track as mono AAC in M4A at about 64 kbit/s; write atomically."""
    import av

    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    try:
        with av.open(str(source)) as recording:
            if not recording.streams.audio:
                raise PlaybackFailed("This recording has no sound track to listen to.")
            sound = recording.streams.audio[0]
            with av.open(str(partial), "w", format="mp4", options={"movflags": "+faststart"}) as copy:
                track = copy.add_stream("aac", rate=ACCESS_SAMPLE_RATE, layout="mono")
                track.bit_rate = ACCESS_BIT_RATE
                resampler = av.AudioResampler(format="fltp", layout="mono", rate=ACCESS_SAMPLE_RATE)
                written = 0

                def encode(frames):
                    # Count time in samples ourselves: uploaded files often carry gaps or jumps in their timestamps.
                    nonlocal written
                    for resampled in frames:
                        resampled.pts = written
                        resampled.time_base = fractions.Fraction(1, ACCESS_SAMPLE_RATE)
                        written += resampled.samples
                        copy.mux(track.encode(resampled))

                for frame in recording.decode(sound):
                    frame.pts = None
                    encode(resampler.resample(frame))
                encode(resampler.resample(None))
                copy.mux(track.encode(None))
        os.replace(partial, destination)
    except av.error.FFmpegError as error:
        raise PlaybackFailed("The sound in this recording cannot be read; the file may be damaged.") from error
    finally:
        partial.unlink(missing_ok=True)


def video_copy_write(*, source: Path, destination: Path) -> None:
    """Copy a video browsers can play, packet for packet, leaving every tag behind; write atomically.

    No re-encoding: the pictures and sound are the original's, so the copy is quick and loses nothing.
    """
    import av

    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    options = {"movflags": "+faststart"} if destination.suffix == ".mp4" else {}
    try:
        with av.open(str(source)) as recording:
            kept = [recording.streams.video[0], *recording.streams.audio[:1]]
            with av.open(str(partial), "w", format=destination.suffix.lstrip("."), options=options) as copy:
                tracks = {}
                for stream in kept:
                    track = copy.add_stream_from_template(stream)
                    track.metadata.clear()
                    tracks[stream.index] = track
                for packet in recording.demux(kept):
                    if packet.dts is None:  # the demuxer's end-of-stream marker
                        continue
                    packet.stream = tracks[packet.stream.index]
                    copy.mux(packet)
        os.replace(partial, destination)
    except av.error.FFmpegError as error:
        raise PlaybackFailed("The pictures in this video cannot be read; the file may be damaged.") from error
    finally:
        partial.unlink(missing_ok=True)


def poster_write(*, source: Path, destination: Path) -> bool:
    """Save a still from about a second in (or the first frame of a shorter video) as JPEG; False without video."""
    import av

    try:
        with av.open(str(source)) as recording:
            if not recording.streams.video:
                return False
            video = recording.streams.video[0]
            chosen = None
            for frame in recording.decode(video):
                chosen = frame
                if frame.time is not None and frame.time >= POSTER_AT_SECONDS:
                    break
            if chosen is None:
                return False
            image = chosen.to_image()
    except av.error.FFmpegError as error:
        raise PlaybackFailed("The pictures in this video cannot be read; the file may be damaged.") from error
    image.convert("RGB").save(destination, "JPEG", quality=85)
    return True
