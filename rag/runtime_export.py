"""Export a sentence-transformers folder (BERT encoder + mean pooling + L2 norm) to an OpenVINO IR, at
install time, so that serving and indexing run on OpenVINO with only `openvino` + `tokenizers` imported.

The IR takes `input_ids` and `attention_mask` (dynamic batch and length) and returns the normalised
sentence vectors: the pooling is part of the graph. Weights are stored as fp16 and computed in fp32
(cosine to the torch model ≥ 0.9999999 on the bundled corpus; docs/benchmarks.md).
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path

OPENVINO_DIR = "openvino"
OPENVINO_XML = "model.xml"


def openvino_model(folder: Path) -> Path:
    return Path(folder) / OPENVINO_DIR / OPENVINO_XML


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
    target = folder / OPENVINO_DIR
    tmp = Path(tempfile.mkdtemp(prefix=f".{OPENVINO_DIR}-", dir=folder))
    try:
        ov.save_model(graph, str(tmp / OPENVINO_XML), compress_to_fp16=True)
        if target.exists():
            shutil.rmtree(target)
        tmp.chmod(0o755)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target / OPENVINO_XML
