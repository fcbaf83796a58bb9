"""What browsers play: an AAC access copy for listening and a poster frame for video, made with PyAV and Pillow.

The original is the preservation master and is rewritten only when a facilitator redacts it too
(`original_redacted_write`). No tags are copied into the access copy, so a phone's location or a recorder's comment
never reaches the public. Every writer here takes the redacted spans (seconds from the first sample of sound, as the
transcript counts them) and writes silence over them.
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
# The sound of a browser-playable video whose passage is redacted is encoded again in its container's own codec.
REDACTED_VIDEO_SOUND = {".mp4": ("aac", None), ".webm": ("libopus", 48_000)}
# The encoder that writes an original's sound again in the codec it was recorded in, by the decoder's name.
ORIGINAL_SOUND_ENCODERS = {
    "aac": "aac",
    "mp3": "libmp3lame",
    "mp3float": "libmp3lame",
    "opus": "libopus",
    "flac": "flac",
    "alac": "alac",
    **{f"pcm_{kind}": f"pcm_{kind}" for kind in ("s16le", "s16be", "s24le", "s32le", "f32le", "u8")},
}

Span = tuple[float, float]


class PlaybackFailed(ValueError):
    """The recording's sound or pictures could not be read to make a copy; the message says so plainly."""


def browsers_play_original(*, video_codec: str, audio_codec: str, file_name: str) -> bool:
    return (
        video_codec in BROWSER_VIDEO_CODECS
        and audio_codec in BROWSER_AUDIO_CODECS
        and Path(file_name).suffix.lower() in {".mp4", ".webm"}
    )


def _silenced(frame, *, first_sample: int, silences: list[Span]):
    """The frame with every sample inside a redacted span set to zero (the frame itself when none is)."""
    import av

    rate = frame.sample_rate
    last_sample = first_sample + frame.samples
    cuts = []
    for start, end in silences:
        first, last = max(round(start * rate), first_sample), min(round(end * rate), last_sample)
        if first < last:
            cuts.append((first - first_sample, last - first_sample))
    if not cuts:
        return frame
    samples = frame.to_ndarray().copy()
    planar = frame.format.is_planar
    for first, last in cuts:
        if planar:
            samples[:, first:last] = 0
        else:  # packed: one row of samples interleaved channel by channel
            channels = len(frame.layout.channels)
            samples[:, first * channels : last * channels] = 0
    silenced = av.AudioFrame.from_ndarray(samples, format=frame.format.name, layout=frame.layout.name)
    silenced.sample_rate = rate
    return silenced


def _sound_encoder(*, copy, track, silences: list[Span]):
    """A function that encodes decoded frames into `track` from the first sample on, silent over the spans.

    Time is counted in samples: uploaded files often carry gaps or jumps in their timestamps."""
    written = 0
    rate = track.rate

    def encode(frames):
        nonlocal written
        for resampled in frames:
            resampled = _silenced(resampled, first_sample=written, silences=silences)
            resampled.pts = written
            resampled.time_base = fractions.Fraction(1, rate)
            written += resampled.samples
            copy.mux(track.encode(resampled))

    return encode


def access_copy_write(*, source: Path, destination: Path, silences: list[Span] = ()) -> None:
    """Encode the first sound track as mono AAC in M4A at about 64 kbit/s, silent over the spans; write atomically."""
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
                encode = _sound_encoder(copy=copy, track=track, silences=list(silences))
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


def video_copy_write(*, source: Path, destination: Path, silences: list[Span] = ()) -> None:
    """Copy a video browsers can play, packet for packet, leaving every tag behind; write atomically.

    No re-encoding: the pictures and sound are the original's, so the copy is quick and loses nothing. With redacted
    spans the pictures are still copied as they are, and only the sound is encoded again, silent over the spans.
    """
    import av

    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    options = {"movflags": "+faststart"} if destination.suffix == ".mp4" else {}
    try:
        with av.open(str(source)) as recording:
            sound = recording.streams.audio[0] if recording.streams.audio else None
            kept = [recording.streams.video[0], *([sound] if sound is not None else [])]
            with av.open(str(partial), "w", format=destination.suffix.lstrip("."), options=options) as copy:
                tracks = {}
                for stream in kept:
                    if stream is sound and silences:
                        continue
                    track = copy.add_stream_from_template(stream)
                    track.metadata.clear()
                    tracks[stream.index] = track
                encode = None
                if sound is not None and silences:
                    codec, rate = REDACTED_VIDEO_SOUND[destination.suffix]
                    layout = sound.layout.name if len(sound.layout.channels) <= 2 else "stereo"
                    track = copy.add_stream(codec, rate=rate or sound.rate, layout=layout)
                    track.bit_rate = max(sound.bit_rate or 0, 2 * ACCESS_BIT_RATE)
                    resampler = av.AudioResampler(format=track.format.name, layout=layout, rate=track.rate)
                    encode = _sound_encoder(copy=copy, track=track, silences=list(silences))
                for packet in recording.demux(kept):
                    if packet.stream is sound and encode is not None:
                        for frame in packet.decode():
                            frame.pts = None
                            encode(resampler.resample(frame))
                        continue
                    if packet.dts is None:  # the demuxer's end-of-stream marker
                        continue
                    packet.stream = tracks[packet.stream.index]
                    copy.mux(packet)
                if encode is not None:
                    encode(resampler.resample(None))
                    copy.mux(track.encode(None))
        os.replace(partial, destination)
    except av.error.FFmpegError as error:
        raise PlaybackFailed("The pictures in this video cannot be read; the file may be damaged.") from error
    finally:
        partial.unlink(missing_ok=True)


def _shown_during(frame, *, frame_seconds: float, spans: list[Span]) -> bool:
    """Whether the frame is on screen at any moment of a redacted span (a frame without a time counts as inside)."""
    if frame.time is None:
        return bool(spans)
    return any(frame.time < end and frame.time + frame_seconds > start for start, end in spans)


def poster_write(*, source: Path, destination: Path, avoid: list[Span] = ()) -> bool:
    """Save a still from about a second in (or the first frame of a shorter video) as JPEG; False without video.

    No frame on screen during a redacted span (`avoid`) is chosen: the first one after a second that is not, else the
    last one before; False when every frame is."""
    import av

    spans = list(avoid)
    try:
        with av.open(str(source)) as recording:
            if not recording.streams.video:
                return False
            video = recording.streams.video[0]
            rate = video.average_rate or video.guessed_rate
            frame_seconds = float(1 / rate) if rate else 0.0
            chosen = None
            for frame in recording.decode(video):
                if _shown_during(frame, frame_seconds=frame_seconds, spans=spans):
                    continue
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


def original_redaction_refusal(*, audio_codec: str, file_name: str) -> str:
    """Why this original cannot be rewritten with silence here, in words for the form; "" when it can."""
    import av

    encoder = ORIGINAL_SOUND_ENCODERS.get(audio_codec)
    if not audio_codec:
        return "This recording has no sound track to silence."
    try:
        av.Codec(encoder or "", "w")
    except (ValueError, av.error.FFmpegError):
        return (
            f"This recording's sound ({audio_codec} in a {Path(file_name).suffix or 'nameless'} file) cannot be "
            "written again on this server, so the original cannot be redacted; redact the copies only."
        )
    return ""


def original_redacted_write(*, source: Path, destination: Path, silences: list[Span]) -> None:
    """Write the original again in its own container and codecs: every sound track encoded again, silent over the
    spans, the pictures copied packet for packet, its tags kept (it stays the preservation master). Atomic."""
    import av

    partial = destination.with_name(f".{destination.stem}.{os.getpid()}.partial{destination.suffix}")
    try:
        with av.open(str(source)) as recording:
            sounds = list(recording.streams.audio)
            if not sounds:
                raise PlaybackFailed("This recording has no sound track to silence.")
            pictures = list(recording.streams.video)
            with av.open(str(partial), "w") as copy:
                copy.metadata.update(recording.metadata)
                tracks, encoders = {}, {}
                for stream in pictures:
                    tracks[stream.index] = copy.add_stream_from_template(stream)
                for stream in sounds:
                    codec = ORIGINAL_SOUND_ENCODERS[stream.codec_context.name]
                    track = copy.add_stream(codec, rate=stream.rate, layout=stream.layout.name)
                    if stream.bit_rate and codec not in ("flac", "alac") and not codec.startswith("pcm_"):
                        track.bit_rate = stream.bit_rate
                    track.metadata.update(stream.metadata)
                    resampler = av.AudioResampler(format=track.format.name, layout=stream.layout.name, rate=track.rate)
                    encoders[stream.index] = (
                        track,
                        resampler,
                        _sound_encoder(copy=copy, track=track, silences=list(silences)),
                    )
                for packet in recording.demux([*pictures, *sounds]):
                    if packet.stream.index in encoders:
                        _, resampler, encode = encoders[packet.stream.index]
                        for frame in packet.decode():
                            frame.pts = None
                            encode(resampler.resample(frame))
                        continue
                    if packet.dts is None:
                        continue
                    packet.stream = tracks[packet.stream.index]
                    copy.mux(packet)
                for track, resampler, encode in encoders.values():
                    encode(resampler.resample(None))
                    copy.mux(track.encode(None))
        os.replace(partial, destination)
    except (av.error.FFmpegError, KeyError) as error:
        raise PlaybackFailed(
            "The sound in this recording cannot be written again; the original is unchanged."
        ) from error
    finally:
        partial.unlink(missing_ok=True)
