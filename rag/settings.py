"""One explicit settings object: defaults < rag.toml < environment < flags."""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.ingest.chunk import ChunkSettings
from rag.query.fusion import Fusion

CONFIG_FILE = "rag.toml"
ENV = {
    "corpus": "RAG_CORPUS",
    "index": "RAG_INDEX",
    "model": "RAG_MODEL",
    "models_dir": "RAG_MODELS_DIR",
    "backend": "RAG_BACKEND",
    "ocr": "RAG_OCR",
    "llm_url": "RAG_LLM_URL",
    "llm_model": "RAG_LLM_MODEL",
    "llm_timeout": "RAG_LLM_TIMEOUT",
    "eval_qa": "RAG_EVAL_QA",
    "host": "RAG_HOST",
    "port": "RAG_PORT",
}


@dataclass(frozen=True)
class Settings:
    corpus: Path = Path("corpus")
    index: Path = Path("index")
    model: str = "multilingual-e5-small"
    models_dir: Path = Path("models")
    backend: str = "auto"  # the model's runtime: auto (OpenVINO when exported, else torch) | openvino | torch
    ocr: str = "auto"  # PDF pages read from their image: auto (no usable text layer) | off | force (docs/ocr.md)
    host: str = "127.0.0.1"  # where `rag serve` listens; beyond loopback it needs a password (docs/security.md)
    port: int = 7860
    eval_qa: Path = Path("eval/qa.jsonl")  # the set the app's evaluator runs and appends draft questions to
    chunk_chars: int = 400
    # characters of the previous prose chunk repeated at the start of the next (docs/retrieval.md)
    chunk_overlap: int = 160
    top_k: int = 5
    # fusion of dense and BM25 (rag/query/fusion.py): fitted on half of JSQuAD-test + allganize-dev, reported on
    # the other half (docs/retrieval.md)
    fusion_ja: str = "convex"
    fusion_en: str = "rrf"
    bm25_share: float = 0.1
    bigram_share: float = 0.15
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    sentence_weight: float = 1.0  # rrf: chunks ranked by their best sentence (English questions; docs/retrieval.md)
    bm25_k1: float = 0.9  # BM25 term saturation and length normalisation, fitted as docs/retrieval.md says
    bm25_b: float = 0.5
    # optional generated answers (rag/answer/generator.py): an OpenAI-compatible endpoint the site runs or may use;
    # empty = off, and no document text leaves the machine
    llm_url: str = ""  # e.g. http://127.0.0.1:11434/v1 (Ollama), http://127.0.0.1:8000/v1 (vLLM)
    llm_model: str = ""
    llm_key_env: str = "RAG_LLM_API_KEY"  # the environment variable holding the API key, if any
    llm_timeout: float = 30.0  # seconds for the whole reply; beyond it the extractive answer is shown
    llm_passages: int = 5  # passages numbered [1]…[n] in the prompt

    def fusion(self) -> Fusion:
        try:
            return Fusion(
                self.fusion_ja,
                self.fusion_en,
                self.bm25_share,
                self.bigram_share,
                self.rrf_k,
                self.dense_weight,
                self.bm25_weight,
                self.sentence_weight,
            )
        except ValueError as e:
            raise RagError(f"bad fusion setting: {e}") from e

    def chunking(self) -> ChunkSettings:
        """The chunker's settings, checked here so a bad value is one line naming the setting."""
        if self.chunk_chars < 50:
            raise RagError(f"setting 'chunk_chars' must be at least 50, got {self.chunk_chars}")
        if not 0 <= self.chunk_overlap < self.chunk_chars:
            raise RagError(
                f"setting 'chunk_overlap' must be from 0 to below chunk_chars ({self.chunk_chars}), got {self.chunk_overlap}"
            )
        return ChunkSettings(
            max_chars=self.chunk_chars,
            min_chars=min(ChunkSettings.min_chars, self.chunk_chars // 2),
            table_max_chars=max(ChunkSettings.table_max_chars, self.chunk_chars),
            overlap_chars=self.chunk_overlap,
        )

    def with_overrides(self, **values: Any) -> Settings:
        known = {f.name: f for f in fields(self)}
        clean: dict[str, Any] = {}
        for key, value in values.items():
            if value is None:
                continue
            if key not in known:
                raise RagError(f"unknown setting {key!r}; known: {', '.join(sorted(known))}")
            default = getattr(Settings, key, None)
            try:
                if isinstance(default, Path):
                    value = Path(value)
                elif isinstance(default, bool):
                    value = str(value).lower() in ("1", "true", "yes")
                elif isinstance(default, int):
                    if isinstance(value, float) or (isinstance(value, str) and not value.strip().lstrip("+-").isdigit()):
                        raise ValueError(value)  # 2.7 is not silently cut to 2
                    value = int(value)
                elif isinstance(default, float):
                    value = float(value)
                    if not math.isfinite(value):
                        raise ValueError(value)
            except (ValueError, OverflowError) as e:
                kind = {"int": "an integer", "float": "a finite number"}.get(
                    type(default).__name__, f"a {type(default).__name__}"
                )
                raise RagError(f"setting {key!r} must be {kind}, got {value!r}") from e
            clean[key] = value
        return replace(self, **clean).checked()

    def checked(self) -> Settings:
        """Values of the right type but out of range are refused here, each naming its setting."""
        if self.top_k < 1:
            raise RagError(f"setting 'top_k' must be at least 1, got {self.top_k}")
        if not 1 <= self.port <= 65535:
            raise RagError(f"setting 'port' must be from 1 to 65535, got {self.port}")
        if not self.host.strip():
            raise RagError("setting 'host' is empty: give an address such as 127.0.0.1 (an empty one listens everywhere)")
        return self


def load_settings(config: Path | None = None, env: dict[str, str] | None = None, **flags: Any) -> Settings:
    env = os.environ if env is None else env
    settings = Settings()
    path = config or Path(env.get("RAG_CONFIG", CONFIG_FILE))
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise RagError(f"{path}: not valid TOML ({e})") from e
        settings = settings.with_overrides(**data)
    settings = settings.with_overrides(**{k: env.get(v) for k, v in ENV.items()})
    return settings.with_overrides(**flags)
