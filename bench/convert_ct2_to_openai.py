"""Rebuild an openai-whisper checkpoint from a CTranslate2 Whisper model.bin, so both engines run identical weights.

Bench-only: run with the bench environment's Python (it needs torch), never imported by the archive.
Usage: python bench/convert_ct2_to_openai.py MODEL_DIR OUTPUT.pt
"""

import json
import re
import struct
import sys
from pathlib import Path

import numpy as np

# CTranslate2's DataType enum, as written in model.bin.
DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_model_bin(path: Path) -> dict[str, np.ndarray]:
    """Parse a CTranslate2 model.bin (version 6 layout) into name -> array, aliases resolved."""
    data = path.read_bytes()
    position = 0

    def take(fmt: str):
        nonlocal position
        values = struct.unpack_from("<" + fmt, data, position)
        position += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def name() -> str:
        nonlocal position
        length = take("H")
        text = data[position : position + length].rstrip(b"\0").decode()
        position += length
        return text

    version = take("I")
    if version < 5:
        raise ValueError(f"model.bin version {version} is older than this parser knows")
    spec = name()
    if spec != "WhisperSpec":
        raise ValueError(f"not a Whisper model: {spec}")
    take("I")  # spec revision
    variables = {}
    for _ in range(take("I")):
        variable = name()
        rank = take("B")
        shape = [take("I") for _ in range(rank)]
        dtype = DTYPES[take("B")]
        size = take("I")
        variables[variable] = np.frombuffer(data, dtype=dtype, count=size // np.dtype(dtype).itemsize, offset=position)
        variables[variable] = variables[variable].reshape(shape)
        position += size
    if position < len(data):
        for _ in range(take("I")):
            alias, target = name(), name()
            variables[alias] = variables[target]
    return variables


def weight(variables: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    """A float32 weight; int8 weights are scaled back with their per-row weight_scale."""
    value = variables[f"{prefix}/weight"]
    if value.dtype == np.int8:
        scale = variables[f"{prefix}/weight_scale"].astype(np.float32)
        return value.astype(np.float32) / scale.reshape(-1, *([1] * (value.ndim - 1)))
    return value.astype(np.float32)


def layer_count(variables: dict[str, np.ndarray], stack: str) -> int:
    numbers = {int(match.group(1)) for name in variables if (match := re.match(rf"{stack}/layer_(\d+)/", name))}
    return max(numbers) + 1


def state_dict(variables: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Map CTranslate2 names onto openai-whisper's state dict, splitting the fused attention projections."""
    out: dict[str, np.ndarray] = {}

    def linear(source: str, target: str, *, bias: bool = True):
        out[f"{target}.weight"] = weight(variables, source)
        if bias:
            out[f"{target}.bias"] = variables[f"{source}/bias"].astype(np.float32)

    def norm(source: str, target: str):
        out[f"{target}.weight"] = variables[f"{source}/gamma"].astype(np.float32)
        out[f"{target}.bias"] = variables[f"{source}/beta"].astype(np.float32)

    def split_qkv(source: str, target: str, parts: list[str]):
        fused_weight = weight(variables, source)
        fused_bias = variables[f"{source}/bias"].astype(np.float32)
        for part, w, b in zip(parts, np.split(fused_weight, len(parts)), np.split(fused_bias, len(parts)), strict=True):
            out[f"{target}.{part}.weight"] = w
            # openai-whisper's key projection has no bias; CTranslate2 stores zeros there.
            if part != "key":
                out[f"{target}.{part}.bias"] = b

    def ffn(source: str, target: str):
        linear(f"{source}/linear_0", f"{target}.mlp.0")
        linear(f"{source}/linear_1", f"{target}.mlp.2")
        norm(f"{source}/layer_norm", f"{target}.mlp_ln")

    for conv in ("conv1", "conv2"):
        out[f"encoder.{conv}.weight"] = weight(variables, f"encoder/{conv}")
        out[f"encoder.{conv}.bias"] = variables[f"encoder/{conv}/bias"].astype(np.float32)
    out["encoder.positional_embedding"] = variables["encoder/position_encodings/encodings"].astype(np.float32)
    encoder_layers = layer_count(variables, "encoder")
    for i in range(encoder_layers):
        source, target = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        split_qkv(f"{source}/self_attention/linear_0", f"{target}.attn", ["query", "key", "value"])
        linear(f"{source}/self_attention/linear_1", f"{target}.attn.out")
        norm(f"{source}/self_attention/layer_norm", f"{target}.attn_ln")
        ffn(f"{source}/ffn", target)
    norm("encoder/layer_norm", "encoder.ln_post")

    out["decoder.token_embedding.weight"] = weight(variables, "decoder/embeddings")
    out["decoder.positional_embedding"] = variables["decoder/position_encodings/encodings"].astype(np.float32)
    decoder_layers = layer_count(variables, "decoder")
    for i in range(decoder_layers):
        source, target = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        split_qkv(f"{source}/self_attention/linear_0", f"{target}.attn", ["query", "key", "value"])
        linear(f"{source}/self_attention/linear_1", f"{target}.attn.out")
        norm(f"{source}/self_attention/layer_norm", f"{target}.attn_ln")
        linear(f"{source}/attention/linear_0", f"{target}.cross_attn.query")
        fused_weight = weight(variables, f"{source}/attention/linear_1")
        fused_bias = variables[f"{source}/attention/linear_1/bias"].astype(np.float32)
        key_weight, value_weight = np.split(fused_weight, 2)
        out[f"{target}.cross_attn.key.weight"] = key_weight
        out[f"{target}.cross_attn.value.weight"] = value_weight
        out[f"{target}.cross_attn.value.bias"] = np.split(fused_bias, 2)[1]
        linear(f"{source}/attention/linear_2", f"{target}.cross_attn.out")
        norm(f"{source}/attention/layer_norm", f"{target}.cross_attn_ln")
        ffn(f"{source}/ffn", target)
    norm("decoder/layer_norm", "decoder.ln")

    audio_state = out["encoder.conv1.weight"].shape[0]
    text_state = out["decoder.token_embedding.weight"].shape[1]
    dims = {
        "n_mels": out["encoder.conv1.weight"].shape[1],
        "n_audio_ctx": out["encoder.positional_embedding"].shape[0],
        "n_audio_state": audio_state,
        "n_audio_head": int(variables["encoder/num_heads"]),
        "n_audio_layer": encoder_layers,
        "n_vocab": out["decoder.token_embedding.weight"].shape[0],
        "n_text_ctx": out["decoder.positional_embedding"].shape[0],
        "n_text_state": text_state,
        "n_text_head": int(variables["decoder/num_heads"]),
        "n_text_layer": decoder_layers,
    }
    return out, dims


def alignment_heads(model_dir: Path, dims: dict[str, int]) -> np.ndarray:
    """The word-timing heads from config.json as openai-whisper's boolean layer x head mask."""
    mask = np.zeros((dims["n_text_layer"], dims["n_text_head"]), dtype=bool)
    config = model_dir / "config.json"
    if config.is_file():
        for layer, head in json.loads(config.read_text()).get("alignment_heads", []):
            mask[layer, head] = True
    else:
        mask[dims["n_text_layer"] // 2 :] = True
    return mask


def convert(model_dir: Path, output: Path) -> dict[str, int]:
    """Write an openai-whisper checkpoint for the model in model_dir; returns its dimensions."""
    import torch

    tensors, dims = state_dict(read_model_bin(model_dir / "model.bin"))
    checkpoint = {
        "dims": dims,
        "model_state_dict": {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in tensors.items()},
        "alignment_heads": alignment_heads(model_dir, dims),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, output)
    return dims


if __name__ == "__main__":
    print(json.dumps(convert(Path(sys.argv[1]), Path(sys.argv[2]))))
