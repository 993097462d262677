"""Start the Gradio app on the bundled corpus: `python app.py [--host H] [--port P]` is `rag serve`.

Binds 127.0.0.1 unless told otherwise (--host or RAG_HOST); beyond loopback it needs
RAG_APP_PASSWORD (or RAG_BEHIND_PROXY=1 behind an authenticating proxy). The Admin tab
(upload and rebuild) is on only when RAG_ADMIN_TOKEN is set."""

import sys

from rag.cli import main

sys.exit(main(["serve", *sys.argv[1:]]))
