"""The model's tokenizer as a SentencePiece model, for serving and indexing.

tokenizer.json (the `tokenizers` library) builds a hash-map trie over XLM-R's 250,002 pieces when
it loads: ~1.3 s and ~290 MB on these cores, most of a cold `rag ask` and a third of what serving
holds. The same unigram vocabulary, scores and normaliser (the precompiled character map) in a
SentencePiece model load in ~1.0 s into ~55 MB. `write_sentencepiece` converts tokenizer.json at
`rag model build`; the OpenVINO embedder uses the result when it is there. On 6,874 real texts
(JSQuAD, the bundled and allganize-dev chunks) the token ids are the same except on 16, all runs of
dot leaders (……, ....) that split into the same pieces in another order: equal scores, another tie.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path

SPM_FILE = "sentencepiece.model"
_SPECIAL = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def _charsmap(normalizer: dict | None) -> bytes | None:
    """The precompiled character map, if the normaliser is SentencePiece's (charsmap, strip, collapse spaces)."""
    steps = (normalizer or {}).get("normalizers") if (normalizer or {}).get("type") == "Sequence" else [normalizer]
    kinds = [s.get("type") for s in steps or [] if s]
    if not kinds or kinds[0] != "Precompiled" or any(k not in ("Precompiled", "Strip", "Replace") for k in kinds):
        return None
    raw = steps[0]["precompiled_charsmap"]
    return base64.b64decode(raw) if isinstance(raw, str) else bytes(raw)


def write_sentencepiece(folder: Path) -> Path | None:
    """folder/sentencepiece.model from folder/tokenizer.json, or None when that tokenizer is not a
    SentencePiece unigram one (another model keeps its tokenizer.json)."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    spec = json.loads((Path(folder) / "tokenizer.json").read_text(encoding="utf-8"))
    model, pre = spec.get("model") or {}, spec.get("pre_tokenizer") or {}
    charsmap = _charsmap(spec.get("normalizer"))
    if model.get("type") != "Unigram" or pre.get("type") != "Metaspace" or charsmap is None:
        return None
    proto = pb.ModelProto()
    ids = {}
    for i, (piece, score) in enumerate(model["vocab"]):
        p = proto.pieces.add()
        # a piece listed twice (XLM-R's <mask>) keeps its id under a name no text can produce
        p.piece = piece if piece not in ids else f"<unused{i}>"
        p.score = score
        ids.setdefault(piece, i)
        if i == model["unk_id"]:
            p.type = pb.ModelProto.SentencePiece.UNKNOWN
        elif piece in _SPECIAL or p.piece != piece:
            p.type = pb.ModelProto.SentencePiece.CONTROL
    t = proto.trainer_spec
    t.model_type = pb.TrainerSpec.UNIGRAM
    t.unk_id = model["unk_id"]
    t.bos_id, t.eos_id, t.pad_id = ids.get("<s>", -1), ids.get("</s>", -1), ids.get("<pad>", -1)
    n = proto.normalizer_spec
    n.name = "precompiled"
    n.precompiled_charsmap = charsmap
    n.add_dummy_prefix = pre.get("prepend_scheme", "always") == "always"
    n.remove_extra_whitespaces = True
    n.escape_whitespaces = True
    target = Path(folder) / SPM_FILE
    fd, tmp = tempfile.mkstemp(prefix=".spm-", dir=folder)
    with os.fdopen(fd, "wb") as f:
        f.write(proto.SerializeToString())
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target


class SentencePieceTokenizer:
    """Token ids as tokenizer.json's post-processor gives them: <s> text </s>, at most `max_length`."""

    def __init__(self, path: Path, max_length: int) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(path))
        self.max_length = max_length
        self.bos, self.eos, self.pad = self._sp.bos_id(), self._sp.eos_id(), self._sp.pad_id()

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        room = self.max_length - 2
        return [[self.bos, *ids[:room], self.eos] for ids in self._sp.encode(texts)]
