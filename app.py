"""Start the Gradio app on the bundled corpus: `python app.py [--host H] [--port P]`.

Binds 127.0.0.1 unless told otherwise (--host or RAG_HOST); beyond loopback it needs
RAG_APP_PASSWORD (or RAG_BEHIND_PROXY=1 behind an authenticating proxy). The Admin tab
(upload and rebuild) is on only when RAG_ADMIN_TOKEN is set."""

import argparse
import os
import sys

from rag.errors import RagError
from rag.pipeline import Rag
from rag.settings import load_settings

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--host", default=os.environ.get("RAG_HOST", "127.0.0.1"))
parser.add_argument("--port", type=int, default=int(os.environ.get("RAG_PORT", "7860")))
args = parser.parse_args()

LOOPBACK = ("127.0.0.1", "localhost", "::1")
password = os.environ.get("RAG_APP_PASSWORD") or None
if args.host not in LOOPBACK and not password and not os.environ.get("RAG_BEHIND_PROXY"):
    sys.exit(
        f"app: error: binding to {args.host} exposes the app beyond this machine: set RAG_APP_PASSWORD (users sign in as "
        "'staff'), or put it behind a reverse proxy with TLS and auth and set RAG_BEHIND_PROXY=1 (docs/security.md)"
    )

try:
    rag = Rag(load_settings())
    rag.index  # load the model and the index before the first question  # noqa: B018
except RagError as e:
    sys.exit(f"app: error: {e}")

from rag.web.app import launch  # noqa: E402  (gradio imports slowly; fail fast above first)

launch(rag, args.host, args.port, os.environ.get("RAG_ADMIN_TOKEN") or None, password)
