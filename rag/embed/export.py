"""Export a sentence-transformers folder (BERT encoder + mean pooling + L2 norm) to an OpenVINO IR, at
install time, so that serving and indexing run on OpenVINO with only `openvino` + `tokenizers` imported.

The IR takes `input_ids` and `attention_mask` (dynamic batch and length) and returns the normalised
sentence vectors: the pooling is part of the graph. The weights are compressed to int8 (NNCF's
weight compression, asymmetric, per output channel): on these two cores a query is memory-bound (84 MB
of fp32 weights read per question) and passages compute-bound, and int8 weights with OpenVINO's
dynamic quantisation cut both by ~2× (docs/benchmarks.md) while the vectors stay within cosine 0.9997
of the torch model's on the bundled corpus (the integration tier asserts ≥ 0.999).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from rag.embed.folder import replacing

OPENVINO_DIR = "openvino"
OPENVINO_XML = "model.xml"
# part of the index fingerprint: vectors from this export differ (slightly) from the torch model's
EXPORT_TAG = "openvino-int8-v1"


def openvino_model(folder: Path) -> Path:
    return Path(folder) / OPENVINO_DIR / OPENVINO_XML


def export_is_current(folder: Path) -> bool:
    tag = Path(folder) / OPENVINO_DIR / "EXPORT"
    return openvino_model(folder).exists() and tag.exists() and tag.read_text().strip() == EXPORT_TAG


def export_openvino(folder: Path) -> Path:
    """Write folder/openvino/model.{xml,bin} from the torch weights in `folder` (atomic: built aside, renamed)."""
    import openvino as ov
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    folder = Path(folder)
    encoder = AutoModel.from_pretrained(str(folder)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    example = torch.tensor([[0, 6, 2]], dtype=torch.long)
    # the tracer warns about branches on shapes; they are constant for an encoder with a padding mask
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = ov.convert_model(
            Pooled(encoder).eval(),
            example_input={"input_ids": example, "attention_mask": torch.ones_like(example)},
            input=[("input_ids", [-1, -1], ov.Type.i64), ("attention_mask", [-1, -1], ov.Type.i64)],
        )
    import nncf

    graph = nncf.compress_weights(graph, mode=nncf.CompressWeightsMode.INT8_ASYM)
    target = folder / OPENVINO_DIR
    with replacing(target) as tmp:
        ov.save_model(graph, str(tmp / OPENVINO_XML), compress_to_fp16=False)
        (tmp / "EXPORT").write_text(EXPORT_TAG + "\n")
    return target / OPENVINO_XML
