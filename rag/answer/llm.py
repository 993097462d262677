"""A minimal client for OpenAI-compatible chat endpoints (Ollama, vLLM, llama.cpp's server, hosted
services): POST {url}/chat/completions, streamed (server-sent events) or not. Standard library only.

Every failure (connection, timeout, HTTP status, rate limit, a body that is not the protocol) is an
`LLMError` with a one-line message; the caller falls back to the extractive answer.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from rag.errors import RagError


class LLMError(RagError):
    pass


@dataclass(frozen=True)
class Endpoint:
    url: str  # the API base (…/v1) or the full …/chat/completions address
    model: str
    api_key: str | None = None
    timeout_s: float = 30.0  # the whole request, first byte to last

    @property
    def completions_url(self) -> str:
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


def _request(endpoint: Endpoint, messages: list[dict], stream: bool) -> urllib.request.Request:
    body = {"model": endpoint.model, "messages": messages, "stream": stream, "temperature": 0}
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream" if stream else "application/json"}
    if endpoint.api_key:
        headers["Authorization"] = f"Bearer {endpoint.api_key}"
    return urllib.request.Request(endpoint.completions_url, json.dumps(body).encode(), headers, method="POST")


def _open(endpoint: Endpoint, messages: list[dict], stream: bool, timeout: float):
    try:
        return urllib.request.urlopen(_request(endpoint, messages, stream), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 429:
            raise LLMError(f"the language model is rate-limited (HTTP 429 from {endpoint.completions_url})") from e
        raise LLMError(f"the language model answered HTTP {e.code} ({endpoint.completions_url})") from e
    except TimeoutError as e:
        raise LLMError(f"the language model took longer than {timeout:g} s") from e
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        if isinstance(reason, TimeoutError):
            raise LLMError(f"the language model took longer than {timeout:g} s") from e
        raise LLMError(f"the language model could not be reached at {endpoint.completions_url} ({reason})") from e


def _content(choice: dict, key: str) -> str:
    part = choice.get(key) or {}
    text = part.get("content") if isinstance(part, dict) else None
    return text if isinstance(text, str) else ""


def complete(endpoint: Endpoint, messages: list[dict]) -> str:
    """The whole reply at once."""
    with _open(endpoint, messages, False, endpoint.timeout_s) as r:
        try:
            data = json.loads(r.read().decode("utf-8"))
            return _content(data["choices"][0], "message")
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise LLMError("the language model's reply is not an OpenAI-style chat completion") from e
        except OSError as e:  # a read timeout or a dropped connection
            raise LLMError(f"the language model's reply was cut off ({e})") from e


def stream(endpoint: Endpoint, messages: list[dict]) -> Iterator[str]:
    """The reply as it is written: text pieces, within the time budget."""
    deadline = time.monotonic() + endpoint.timeout_s
    with _open(endpoint, messages, True, endpoint.timeout_s) as r:
        kind = r.headers.get("Content-Type", "")
        if "text/event-stream" not in kind:
            # some servers ignore "stream": a plain completion is fine too
            try:
                yield _content(json.loads(r.read().decode("utf-8"))["choices"][0], "message")
            except OSError as e:
                raise LLMError(f"the language model's reply was cut off ({e})") from e
            except (ValueError, KeyError, IndexError, TypeError) as e:
                raise LLMError("the language model's reply is not an OpenAI-style chat completion") from e
            return
        try:
            for raw in r:
                if time.monotonic() > deadline:
                    raise LLMError(f"the language model took longer than {endpoint.timeout_s:g} s")
                line = raw.decode("utf-8").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                event = json.loads(data)
                if "error" in event:
                    raise LLMError(f"the language model reported an error: {str(event['error'])[:200]}")
                choices = event.get("choices") or [{}]
                piece = _content(choices[0], "delta")
                if piece:
                    yield piece
        except (ValueError, UnicodeDecodeError, AttributeError, TypeError) as e:
            raise LLMError("the language model's stream is not OpenAI-style server-sent events") from e
        except TimeoutError as e:
            raise LLMError(f"the language model took longer than {endpoint.timeout_s:g} s") from e
        except OSError as e:
            raise LLMError(f"the language model's reply was cut off ({e})") from e
