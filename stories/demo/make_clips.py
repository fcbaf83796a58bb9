"""Remake the demo recordings in stories/demo/clips/ from the spoken text below.

Run from the repository root: ``.venv/bin/python stories/demo/make_clips.py``. Needs espeak-ng and sox on the PATH,
and PyAV and Pillow in the virtualenv. Each clip is spoken by espeak-ng, resampled by sox to 16 kHz mono with a little
silence either side, then encoded by PyAV as AAC at 24 kbit/s in an .m4a (or an .mp4 with an H.264 title card).
``--table`` prints the Markdown table of file and spoken text used in README.md instead.
"""

import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
CLIPS = HERE / "clips"
SAMPLE_RATE = 16000
AUDIO_BIT_RATE = 24000
MAX_BYTES = 150 * 1024

# (file, espeak-ng voice, words per minute, spoken text). Elders speak at 135-140, youth at 160-170.
SPOKEN = [
    (
        "housing-elder.m4a",
        "en+f3",
        140,
        "When I was a girl, six of us shared two rooms above the bakery on Maple Street. The roof leaked every spring. "
        "Years later I helped start our tenants' association, and we fought for safe, humane housing with heat "
        "that works. Now my grandchildren have a home with a real kitchen and a window that opens. That fight was worth it.",
    ),
    (
        "bus-youth.m4a",
        "en-us",
        165,
        "I take the number twelve bus to school every morning. Last winter the bus stopped coming on time, and kids "
        "were missing first period. So our student council counted the late buses for a month and brought the numbers "
        "to the transit board. They added a morning bus and a shelter with a bench. Now I get to class on time.",
    ),
    (
        "garden-elder-youth.m4a",
        "en+m3",
        140,
        "Maya asked me why I still garden at eighty-two. Well, I grew up hungry. After the war my mother fed us from a "
        "patch of beans and tomatoes behind the house. Now I teach the kids at the community garden how to save seeds, "
        "and we give the extra food to the pantry. Good soil and good neighbors, that is all you need.",
    ),
    (
        "first-job-elder.m4a",
        "en+m3",
        135,
        "My first job was sweeping floors at the paper mill when I was sixteen. An old machinist named Gus took me on "
        "as an apprentice and taught me to read blueprints. That job paid for my first car and, later, my house. "
        "Meaningful work is when somebody believes you can learn.",
    ),
    (
        "food-pantry-youth.m4a",
        "en+f2",
        165,
        "Every Saturday I volunteer at the food pantry at Grace Church. At first I just stacked cans. Then I started "
        "talking with the families, and I found out one of them was my math teacher. Nobody should be embarrassed to need "
        "food. Now I help run the pantry's Instagram so more people know when we are open.",
    ),
    (
        "river-cleanup-youth.m4a",
        "en-us",
        170,
        "Our class did a river cleanup in October. We pulled out tires, a shopping cart, and about a hundred plastic "
        "bottles. My grandpa says he used to catch fish there when he was my age. Next spring we are planting trees "
        "along the bank so the water stays cool and the fish come back.",
    ),
    (
        "cocina-abuela.m4a",
        "es-419+f3",
        140,
        "Cuando llegué a este pueblo en mil novecientos setenta, no hablaba inglés. Trabajé en la cocina de un restaurante "
        "y aprendí a cocinar para cien personas. Con ese trabajo mandé a mis hijos a la escuela. Ahora cocino los "
        "domingos para los vecinos, porque la comida y la familia son lo más importante.",
    ),
    (
        "library-elder.m4a",
        "en+f4",
        135,
        "I never finished high school. I left to work on the farm. At seventy, I walked into the public library and "
        "asked for help with a computer. My grandson and the librarian taught me email and video calls. This year I "
        "finished my high school diploma online. It is never too late to keep learning.",
    ),
    (
        "town-meeting-elder.m4a",
        "en-us-nyc",
        140,
        "For twenty years there was no crosswalk on Route nine, and folks from the senior apartments could not walk to "
        "the grocery store. So we filled the town meeting, young people and old people together, and we spoke one by "
        "one. The town voted for a crosswalk and a new sidewalk. That is civic muscle.",
    ),
    (
        "building-home-together.mp4",
        "en+m2",
        160,
        "Grandma Grace and I spent the summer building a house with our neighbors. She taught me to measure twice and "
        "cut once. On the last day the family moved in, and their little boy ran straight to his new room. Now I think I "
        "want to be a carpenter.",
    ),
]
# The title card drawn on the video story.
VIDEO_TITLE = "Building a Home Together"


def speak(voice: str, speed: int, text: str, wav: Path) -> None:
    """Speak text with espeak-ng and leave a 16 kHz mono wav with a little silence either side."""
    raw = wav.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
    subprocess.run(
        ["sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(wav), "norm", "-1", "pad", "0.4", "0.6"],
        check=True,
    )


def audio_stream(output):
    stream = output.add_stream("aac", rate=SAMPLE_RATE)
    stream.layout = "mono"
    stream.bit_rate = AUDIO_BIT_RATE
    return stream


def encode_audio(output, stream, wav: Path) -> None:
    """Encode the wav into the output's AAC stream."""
    with av.open(str(wav)) as source:
        for frame in source.decode(audio=0):
            frame.pts = None
            output.mux(stream.encode(frame))
    output.mux(stream.encode(None))


def title_card(title: str, size=(320, 180)) -> Image.Image:
    """A soft warm background with the title in large text."""
    image = Image.new("RGB", size, (244, 226, 198))
    draw = ImageDraw.Draw(image)
    for y in range(size[1]):  # a gentle vertical gradient
        shade = int(18 * y / size[1])
        draw.line([(0, y), (size[0], y)], fill=(244 - shade, 226 - shade, 198 - shade * 2))
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", 24)
    except OSError:
        font = ImageFont.load_default()
    lines = title.replace(" a ", " a\n", 1).split("\n")
    draw.multiline_text((size[0] / 2, size[1] / 2), "\n".join(lines), fill=(92, 58, 33), font=font, anchor="mm",
                        align="center", spacing=8)  # fmt: skip
    return image


def make_audio_clip(path: Path, wav: Path) -> None:
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        encode_audio(output, audio_stream(output), wav)


def make_video_clip(path: Path, wav: Path, title: str) -> None:
    with av.open(str(wav)) as source:
        seconds = float(source.duration / 1_000_000)
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        video = output.add_stream(codec, rate=1)
        video.width, video.height, video.pix_fmt = 320, 180, "yuv420p"
        video.codec_context.time_base = Fraction(1, 1)
        if codec == "libx264":
            video.options = {"crf": "30", "preset": "slow"}
        audio = audio_stream(output)  # every stream must exist before the first packet is written
        card = title_card(title)
        for second in range(int(seconds) + 1):
            frame = av.VideoFrame.from_image(card)
            frame.pts = second
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        encode_audio(output, audio, wav)


def check(path: Path) -> float:
    """Decode every audio frame and return the duration in seconds; fail loudly if the file is too big."""
    samples = 0
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            samples += frame.samples
    seconds = samples / SAMPLE_RATE
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size} bytes"
    assert 10 <= seconds <= 40, f"{path.name} lasts {seconds:.1f} s"
    return seconds


def main() -> None:
    if "--table" in sys.argv:
        print("| File | Voice | Spoken text |\n| --- | --- | --- |")
        for name, voice, speed, text in SPOKEN:
            print(f"| clips/{name} | {voice}, -s {speed} | {text} |")
        return
    CLIPS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, voice, speed, text in SPOKEN:
            wav = Path(tmp) / f"{Path(name).stem}.wav"
            speak(voice, speed, text, wav)
            path = CLIPS / name
            if path.suffix == ".mp4":
                make_video_clip(path, wav, VIDEO_TITLE)
            else:
                make_audio_clip(path, wav)
            print(f"{path.relative_to(HERE)}\t{path.stat().st_size} bytes\t{check(path):.1f} s")


if __name__ == "__main__":
    main()
