"""Corpus tokenization on Ray Data: audio files -> Parquet tables of codes, and back.

    python -m codec_cpp.corpus encode --model M.gguf --input 'data/**/*.flac' --output codes/ \\
        [--workers N] [--threads-per-worker T] [--address auto]
    python -m codec_cpp.corpus decode --model M.gguf --input codes/ --output audio/ [--limit N]

encode: list the input files (globs, directories, or Parquet tables with an audio column), drop
those already in the output, then on Ray Data: read + decode + resample to the encoder's rate
(soundfile, soxr; map_batches tasks) -> encode on an actor pool (one loaded model per actor,
reused across batches) -> each batch written as one Parquet file under OUTPUT/codes/ (rows:
path, source sample_rate/channels/samples, n_q, frames, codes as int32 lists per codebook or
level, scales for EnCodec 48 kHz, the model file's SHA-256 and arch) and its failures under
OUTPUT/errors/ (path, stage, error). Each file is written under a temporary name and renamed
when complete, so a killed job leaves nothing half-written that a re-run would take as done; a
re-run of the same command encodes only what is missing. Local Ray by default; --address (or
RAY_ADDRESS) runs on an existing cluster (see docs/corpus.md).

decode: the reverse, for checking a dataset by ear: OUTPUT/<stem>-<hash of path>.wav per row.
"""
from __future__ import annotations

import argparse
import fnmatch
import glob
import hashlib
import json
import os
import sys
import time
import uuid
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".opus", ".aif", ".aiff", ".au", ".w64", ".caf")
CODES_DIR, ERRORS_DIR = "codes", "errors"


def _pa() -> Tuple[Any, Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.fs as pafs
        import pyarrow.parquet as pq
    except ImportError as e:  # pragma: no cover
        raise ImportError("the corpus job needs pyarrow and ray: pip install 'codec-cpp[ray]'") from e
    return pa, pafs, pq


def file_sha256(path: str, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                return h.hexdigest()
            h.update(b)


# ---- file systems: local paths, or any URI pyarrow knows (s3://, gs://, ...)

def _fs(uri: str) -> Tuple[Any, str]:
    _, pafs, _ = _pa()
    if "://" in uri:
        return pafs.FileSystem.from_uri(uri)
    return pafs.LocalFileSystem(), os.path.abspath(uri)


def _join(*parts: str) -> str:
    return "/".join(p.rstrip("/") for p in parts)


def list_inputs(patterns: Sequence[str]) -> List[str]:
    """Files matched by globs (** recursive), directories (their audio files), or plain paths;
    sorted, deduplicated. Local paths are made absolute; URIs are kept as URIs."""
    out: Set[str] = set()
    for pat in patterns:
        if "://" in pat:
            out.update(_list_uri(pat))
            continue
        if os.path.isdir(pat):
            for root, _, files in os.walk(pat):
                out.update(os.path.abspath(os.path.join(root, f)) for f in files
                           if f.lower().endswith(AUDIO_EXTENSIONS))
            continue
        hits = glob.glob(pat, recursive=True) if glob.has_magic(pat) else ([pat] if os.path.exists(pat) else [])
        if not hits and not glob.has_magic(pat):
            raise FileNotFoundError(f"input {pat} does not exist")
        out.update(os.path.abspath(h) for h in hits if os.path.isfile(h))
    return sorted(out)


def _list_uri(pat: str) -> List[str]:
    _, pafs, _ = _pa()
    scheme, rest = pat.split("://", 1)
    magic = min([i for i, c in enumerate(rest) if c in "*?["] or [len(rest)])
    base = rest[:rest.rfind("/", 0, magic)] if magic < len(rest) else rest
    fs, root = pafs.FileSystem.from_uri(f"{scheme}://{base}")
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    files = [i.path for i in infos if i.type == pafs.FileType.File]
    if magic == len(rest):
        return [f"{scheme}://{p}" for p in files] if files else [pat]
    pattern = rest.replace("**/", "*")
    return [f"{scheme}://{p}" for p in files if fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, rest)]


def _read_bytes(path: str) -> bytes:
    if "://" not in path:
        with open(path, "rb") as f:
            return f.read()
    fs, p = _fs(path)
    with fs.open_input_file(p) as f:
        return f.read()


# ---- output tables

def codes_schema() -> Any:
    pa, _, _ = _pa()
    return pa.schema([
        ("path", pa.string()),
        ("sample_rate", pa.int32()),          # the source file's
        ("channels", pa.int32()),             # the source file's
        ("samples", pa.int64()),              # the source file's, per channel
        ("model_samples", pa.int64()),        # after resampling to the encoder's rate (what was encoded)
        ("n_q", pa.int32()),
        ("frames", pa.int32()),               # frames of the longest row (SNAC: the finest level)
        ("codes", pa.list_(pa.list_(pa.int32()))),  # [n_q][frames] (SNAC: one list per level, own length)
        ("scales", pa.list_(pa.float32())),   # per-chunk scales (EnCodec 48 kHz), else null
        ("model_sha256", pa.string()),
        ("arch", pa.string()),
    ])


def errors_schema() -> Any:
    pa, _, _ = _pa()
    return pa.schema([("path", pa.string()), ("stage", pa.string()), ("error", pa.string()),
                      ("model_sha256", pa.string())])


def _write_atomic(table: Any, out_dir: str, name: str) -> str:
    """Writes table to out_dir/name via a hidden temporary file and a rename (local file systems:
    atomic; object stores write an object whole). Readers skip names starting with '.' or '_'."""
    _, _, pq = _pa()
    fs, d = _fs(out_dir)
    fs.create_dir(d, recursive=True)
    final, tmp = _join(d, name), _join(d, f".{name}.{uuid.uuid4().hex[:8]}.tmp")
    pq.write_table(table, tmp, filesystem=fs, compression="zstd")
    fs.move(tmp, final)
    return final


def _parquet_files(d: str) -> List[Tuple[Any, str]]:
    _, pafs, _ = _pa()
    fs, root = _fs(d)
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=False, allow_not_found=True))
    return [(fs, i.path) for i in infos if i.type == pafs.FileType.File and i.base_name.endswith(".parquet")
            and not i.base_name.startswith((".", "_"))]


def done_paths(output: str, include_errors: bool = True) -> Tuple[Set[str], Set[str]]:
    """Paths already in OUTPUT/codes (and OUTPUT/errors): what a re-run skips. A part that cannot
    be read (never the case for files this job wrote) counts for nothing."""
    _, _, pq = _pa()
    done: Set[str] = set()
    failed: Set[str] = set()
    for sub, target in ((CODES_DIR, done), (ERRORS_DIR, failed)):
        if sub == ERRORS_DIR and not include_errors:
            continue
        for fs, p in _parquet_files(_join(output, sub)):
            try:
                target.update(pq.read_table(p, columns=["path"], filesystem=fs).column("path").to_pylist())
            except Exception as e:  # noqa: BLE001
                print(f"warning: ignoring unreadable {p}: {e}", file=sys.stderr)
    return done, failed


def read_codes_table(output: str) -> Any:
    """All rows of OUTPUT/codes as one pyarrow Table."""
    pa, _, pq = _pa()
    parts = [pq.read_table(p, filesystem=fs) for fs, p in sorted(_parquet_files(_join(output, CODES_DIR)),
                                                                 key=lambda x: x[1])]
    return pa.concat_tables(parts) if parts else codes_schema().empty_table()


def read_errors_table(output: str) -> Any:
    pa, _, pq = _pa()
    parts = [pq.read_table(p, filesystem=fs) for fs, p in _parquet_files(_join(output, ERRORS_DIR))]
    return pa.concat_tables(parts) if parts else errors_schema().empty_table()


def row_codes(row: Dict[str, Any]) -> Any:
    """A codes-table row -> codes as Model.encode returns them (array, per-level list, or
    (codes, scales))."""
    rows = [np.asarray(r, dtype=np.int32) for r in row["codes"]]
    if row["arch"] == "snac" or len({len(r) for r in rows}) > 1:
        return rows
    codes = np.stack(rows) if rows else np.zeros((0, 0), np.int32)
    if row.get("scales") is not None:
        return codes, np.asarray(row["scales"], dtype=np.float32)
    return codes


# ---- Ray stages

def load_stage(batch: Any, target_rate: int, target_channels: int) -> Any:
    """map_batches task: paths (or audio bytes) -> decoded, resampled PCM; failures carried on."""
    pa, _, _ = _pa()
    from .audio import decode_audio
    cols = batch.column_names
    paths = batch.column("path").to_pylist()
    blobs = batch.column("bytes").to_pylist() if "bytes" in cols else [None] * len(paths)
    out: Dict[str, list] = {k: [] for k in ("path", "pcm", "sample_rate", "channels", "samples", "error")}
    for path, blob in zip(paths, blobs):
        pcm, info, err = None, {"sample_rate": 0, "channels": 0, "samples": 0}, None
        try:
            pcm, info = decode_audio(blob if blob is not None else _read_bytes(path), target_rate, target_channels)
        except Exception as e:  # noqa: BLE001 - any unreadable file is recorded, the job goes on
            err = f"{type(e).__name__}: {e}"
        out["path"].append(path)
        out["pcm"].append(None if pcm is None else np.ascontiguousarray(pcm, np.float32).reshape(-1))
        for k in ("sample_rate", "channels", "samples"):
            out[k].append(info[k])
        out["error"].append(err)
    return pa.table({
        "path": pa.array(out["path"], pa.string()),
        "pcm": pa.array(out["pcm"], pa.list_(pa.float32())),
        "sample_rate": pa.array(out["sample_rate"], pa.int32()),
        "channels": pa.array(out["channels"], pa.int32()),
        "samples": pa.array(out["samples"], pa.int64()),
        "error": pa.array(out["error"], pa.string()),
    })


class EncodeActor:
    """One loaded model per actor, reused for every batch it gets; writes each batch's codes and
    errors as Parquet parts and returns a one-row summary for the progress display."""

    def __init__(self, model: str, sha256: str, output: str, threads: int, n_q: int, gpu: bool = False,
                 check_sha: bool = True, delay: float = 0.0):
        from . import Model
        if check_sha and file_sha256(model) != sha256:
            raise RuntimeError(f"{model} on this node differs from the driver's (SHA-256 {sha256})")
        self.model = Model(model, n_threads=threads, use_gpu=gpu)
        self.sha256, self.output, self.n_q = sha256, output, n_q
        self.delay = delay  # tests: a slow job to kill midway

    def __call__(self, batch: Any) -> Any:
        pa, _, _ = _pa()
        m = self.model
        rows: Dict[str, list] = {f.name: [] for f in codes_schema()}
        errs: Dict[str, list] = {f.name: [] for f in errors_schema()}
        seconds = 0.0
        items = batch.to_pylist()
        pcms = [None if r["error"] is not None else np.asarray(r["pcm"], dtype=np.float32) for r in items]
        if m.channels > 1:
            pcms = [None if x is None else x.reshape(-1, m.channels) for x in pcms]
        # One batch call (same-length files share a graph); if any file fails it, each file alone
        # so that only the bad ones become error rows.
        ok = [x for x in pcms if x is not None]
        try:
            done = iter(m.encode_batch(ok, n_q=self.n_q, workers=1) if ok else [])
        except Exception:  # noqa: BLE001
            done = None
        for r, pcm in zip(items, pcms):
            stage, err = "read", r["error"]
            if err is None:
                try:
                    codes = next(done) if done is not None else m.encode(pcm, n_q=self.n_q)
                except Exception as e:  # noqa: BLE001
                    stage, err = "encode", f"{type(e).__name__}: {e}"
            if err is not None:
                for k, v in (("path", r["path"]), ("stage", stage), ("error", err), ("model_sha256", self.sha256)):
                    errs[k].append(v)
                continue
            scales = None
            if isinstance(codes, tuple):
                codes, scales = codes
            levels = codes if isinstance(codes, list) else list(codes)
            rows["path"].append(r["path"])
            rows["sample_rate"].append(r["sample_rate"])
            rows["channels"].append(r["channels"])
            rows["samples"].append(r["samples"])
            rows["model_samples"].append(int(pcm.shape[0]))
            rows["n_q"].append(len(levels))
            rows["frames"].append(max((len(x) for x in levels), default=0))
            rows["codes"].append([np.asarray(x, np.int32) for x in levels])
            rows["scales"].append(None if scales is None else np.asarray(scales, np.float32))
            rows["model_sha256"].append(self.sha256)
            rows["arch"].append(m.arch)
            seconds += r["samples"] / max(r["sample_rate"], 1)
        if self.delay:
            time.sleep(self.delay)
        # Name parts by their content: a batch that Ray retries overwrites its own part.
        key = hashlib.sha1("\n".join(sorted(batch.column("path").to_pylist())).encode()).hexdigest()[:20]
        if errs["path"]:
            _write_atomic(pa.table(errs, schema=errors_schema()), _join(self.output, ERRORS_DIR), f"part-{key}.parquet")
        if rows["path"]:
            t = pa.table(rows, schema=codes_schema()).replace_schema_metadata(
                {"codec_cpp": json.dumps({"model_sha256": self.sha256, "arch": m.arch, "sample_rate": m.sample_rate,
                                          "hop_size": m.hop_size, "encode_sample_rate": m.encode_sample_rate,
                                          "n_q": self.n_q})})
            _write_atomic(t, _join(self.output, CODES_DIR), f"part-{key}.parquet")
        return pa.table({"files": [len(rows["path"])], "errors": [len(errs["path"])], "seconds": [seconds]})


class DecodeActor:
    def __init__(self, model: str, output: str, threads: int, fmt: str, gpu: bool = False):
        from . import Model
        self.model = Model(model, n_threads=threads, use_gpu=gpu)
        self.output, self.fmt = output, fmt

    def __call__(self, batch: Any) -> Any:
        pa, _, _ = _pa()
        from .audio import write_audio
        ok = bad = 0
        seconds = 0.0
        for r in batch.to_pylist():
            try:
                audio = self.model.decode(row_codes(r))
                if r.get("model_samples"):  # the encoded span, at the decoder's rate
                    audio = audio[:self.model.output_samples(r["model_samples"])]
                name = audio_name(r["path"], self.fmt)
                fs, d = _fs(self.output)
                tmp = os.path.join(d, f".{name}.{uuid.uuid4().hex[:8]}.tmp.{self.fmt}")
                write_audio(tmp, audio, self.model.sample_rate, "pcm16")
                os.replace(tmp, os.path.join(d, name))
                ok += 1
                seconds += len(audio) / self.model.sample_rate
            except Exception as e:  # noqa: BLE001
                print(f"error: {r['path']}: {e}", file=sys.stderr)
                bad += 1
        return pa.table({"files": [ok], "errors": [bad], "seconds": [seconds]})


def audio_name(path: str, fmt: str) -> str:
    stem = os.path.splitext(os.path.basename(path.rstrip("/")))[0] or "audio"
    return f"{stem}-{hashlib.sha1(path.encode()).hexdigest()[:8]}.{fmt}"


# ---- driver

def _init_ray(address: Optional[str], num_cpus: Optional[int]) -> Any:
    import ray
    if ray.is_initialized():
        return ray
    address = address or os.environ.get("RAY_ADDRESS") or None
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {"PYTHONPATH": os.pathsep.join(p for p in (pkg_parent, os.environ.get("PYTHONPATH")) if p)}
    if os.environ.get("CODEC_LIB"):
        env["CODEC_LIB"] = os.environ["CODEC_LIB"]
    if address:  # a cluster: codec_cpp must be installed on every node (docs/corpus.md)
        ray.init(address=address, log_to_driver=True)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, runtime_env={"env_vars": env},
                 configure_logging=True, logging_level="warning")
    return ray


def _quiet(ray: Any) -> None:
    """Our own progress line replaces Ray Data's bars and per-operator progress logs."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    for attr in ("enable_operator_progress_bars", "print_on_execution_start"):
        if hasattr(ctx, attr):
            setattr(ctx, attr, False)


class Progress:
    def __init__(self, total: int, enabled: bool = True):
        self.total, self.enabled = total, enabled
        self.files = self.errors = 0
        self.seconds = 0.0
        self.t0 = self.last = time.perf_counter()

    def add(self, files: int, errors: int, seconds: float) -> None:
        self.files += files
        self.errors += errors
        self.seconds += seconds
        now = time.perf_counter()
        if self.enabled and (now - self.last > 1.0 or self.files + self.errors >= self.total):
            self.last = now
            self.show(now)

    def show(self, now: Optional[float] = None, end: str = "") -> None:
        el = max((now or time.perf_counter()) - self.t0, 1e-9)
        done = self.files + self.errors
        of = f"/{self.total} files {100.0 * done / self.total:5.1f}%" if self.total > 0 else " files"
        print(f"\r[{done}{of}] {done / el:.2f} files/s, "
              f"{self.seconds / 3600:.4f} h audio ({self.seconds / 3600 / el * 3600:.3f} h audio/h wall, "
              f"{self.seconds / el:.1f}x real time), {self.errors} errors, {el:.0f} s", end=end, file=sys.stderr,
              flush=True)


def _inputs_dataset(ray: Any, args: argparse.Namespace, skip: Set[str]) -> Tuple[Any, int]:
    pa, _, pq = _pa()
    tables = [p for p in args.input if p.lower().endswith(".parquet")]
    if tables:  # Parquet tables with an audio column: bytes, or {"bytes", "path"} as HF datasets write it
        if len(tables) != len(args.input):
            raise ValueError("give either audio files or tables as --input, not both")
        # One block per (file, row group), read in zero-CPU tasks: the actors may hold every core
        # (Ray's own Parquet reader would wait for a free CPU).
        items = []
        for t in tables:
            fs, p = _fs(t)
            with fs.open_input_file(p) as f:
                n_groups = pq.ParquetFile(f).num_row_groups
            items += [(t, g) for g in range(n_groups)]
        ds = ray.data.from_arrow([pa.table({"file": [t], "group": [g]}) for t, g in items])

        def norm(batch: Any, audio_col: str, path_col: str, skip: Set[str]) -> Any:
            out = []
            for t, g in zip(batch.column("file").to_pylist(), batch.column("group").to_pylist()):
                fs, p = _fs(t)
                with fs.open_input_file(p) as f:
                    rows = pq.ParquetFile(f).read_row_group(g)
                a = rows.column(audio_col).combine_chunks()
                if pa.types.is_struct(a.type):
                    blobs = a.field("bytes").to_pylist()
                    paths = (rows.column(path_col).to_pylist() if path_col in rows.column_names
                             else a.field("path").to_pylist())
                else:
                    blobs = a.to_pylist()
                    paths = (rows.column(path_col).to_pylist() if path_col in rows.column_names
                             else [f"{t}#{g}:{i}" for i in range(rows.num_rows)])
                keep = [i for i, q in enumerate(paths) if q not in skip]
                out.append(pa.table({"path": pa.array([paths[i] for i in keep], pa.string()),
                                     "bytes": pa.array([blobs[i] or b"" for i in keep], pa.binary())}))
            return pa.concat_tables(out)
        ds = ds.map_batches(norm, batch_format="pyarrow", batch_size=1, num_cpus=0,
                            compute=ray.data.TaskPoolStrategy(size=2),
                            fn_kwargs={"audio_col": args.audio_column, "path_col": args.path_column, "skip": skip})
        return ds, -1
    paths = [p for p in list_inputs(args.input) if p not in skip]
    if not paths:
        return None, 0
    b = max(1, args.batch_size)
    blocks = [pa.table({"path": pa.array(paths[i:i + b], pa.string())}) for i in range(0, len(paths), b)]
    return ray.data.from_arrow(blocks), len(paths)


def cmd_encode(args: argparse.Namespace) -> int:
    from . import Model
    output = args.output
    sha = file_sha256(args.model)
    with Model(args.model, n_threads=1) as m:
        rate, out_rate, channels, arch = m.encode_sample_rate, m.sample_rate, m.channels, m.arch
        n_q = m.n_q_for_bandwidth(args.bandwidth) if args.bandwidth is not None else args.n_q
        if not m.has_encoder:
            raise ValueError(f"{args.model} has no encoder")
    fs, root = _fs(output)
    fs.create_dir(root, recursive=True)
    manifest = _join(root, "_codec_cpp.json")
    info = {"model_sha256": sha, "arch": arch, "sample_rate": out_rate, "encode_sample_rate": rate, "n_q": n_q,
            "model": os.path.basename(args.model)}
    try:
        with fs.open_input_stream(manifest) as f:
            old = json.loads(f.read().decode())
        if (old.get("model_sha256"), old.get("n_q")) != (sha, n_q) and not args.force:
            raise ValueError(f"{output} holds codes of another model or n_q ({old}); use another --output "
                             "(or --force to mix them)")
    except FileNotFoundError:
        with fs.open_output_stream(manifest) as f:
            f.write(json.dumps(info, indent=1).encode())
    done, failed = done_paths(output)
    skip = done | (set() if args.retry_errors else failed)
    import ray as _ray_mod  # noqa: F401  (fail early with a clear message if Ray is missing)
    ray = _init_ray(args.address, args.num_cpus)
    _quiet(ray)  # before the datasets are made: each keeps a copy of the context
    try:
        ds, total = _inputs_dataset(ray, args, skip)
        print(f"codec_cpp.corpus: {arch} {rate} Hz, model sha256 {sha[:12]}; "
              f"{len(done)} files done, {len(failed)} failed before; "
              f"{'?' if total < 0 else total} to encode", file=sys.stderr)
        if ds is None:
            return 0
        cpus = int(ray.cluster_resources().get("CPU", 1))
        threads = max(1, args.threads_per_worker)
        workers = args.workers or max(1, cpus // threads)
        ds = ds.map_batches(load_stage, batch_format="pyarrow", batch_size=args.batch_size,
                            fn_kwargs={"target_rate": rate, "target_channels": channels},
                            num_cpus=args.decode_cpus, compute=ray.data.TaskPoolStrategy(size=max(2, workers)))
        ds = ds.map_batches(EncodeActor, batch_format="pyarrow", batch_size=args.batch_size,
                            fn_constructor_kwargs={"model": os.path.abspath(args.model) if "://" not in args.model
                                                   else args.model, "sha256": sha, "output": output,
                                                   "threads": threads, "n_q": n_q, "gpu": args.gpu,
                                                   "delay": args.test_delay},
                            compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=threads)
        prog = Progress(total if total > 0 else 0, enabled=args.progress)
        for b in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            for f, e, s in zip(b.column("files").to_pylist(), b.column("errors").to_pylist(),
                               b.column("seconds").to_pylist()):
                prog.add(f, e, s)
        prog.show(end="\n") if args.progress else None
        print(f"codec_cpp.corpus: encoded {prog.files} files ({prog.seconds / 3600:.4f} h of audio), "
              f"{prog.errors} errors, in {time.perf_counter() - prog.t0:.1f} s with {workers} workers x "
              f"{threads} threads -> {output}", file=sys.stderr)
        return 0
    finally:
        if not args.keep_ray:
            ray.shutdown()


def cmd_decode(args: argparse.Namespace) -> int:
    from . import Model
    with Model(args.model, n_threads=1) as m:
        if not m.has_decoder:
            raise ValueError(f"{args.model} has no decoder")
    src = args.input.rstrip("/")
    if src.endswith(".parquet"):
        files = [src]
    else:  # the encode job's output directory, or its codes/ directory
        prefix = src.split("://", 1)[0] + "://" if "://" in src else ""
        files = [prefix + p for _, p in _parquet_files(_join(src, CODES_DIR))]
        files = files or [prefix + p for _, p in _parquet_files(src)]
    if not files:
        raise ValueError(f"no Parquet parts of codes under {args.input}")
    os.makedirs(args.output, exist_ok=True)
    existing = set(os.listdir(args.output))
    ray = _init_ray(args.address, args.num_cpus)
    _quiet(ray)
    try:
        pa, _, _ = _pa()
        # One block per Parquet part, read in zero-CPU tasks: the actors may hold every core.
        ds = ray.data.from_arrow([pa.table({"part": [p]}) for p in files])
        fmt = args.format

        def read_part(batch: Any) -> Any:
            _, _, pq = _pa()
            tables = []
            for p in batch.column("part").to_pylist():
                fs, path = _fs(p)
                t = pq.read_table(path, filesystem=fs)
                keep = [audio_name(x, fmt) not in existing for x in t.column("path").to_pylist()]
                tables.append(t.filter(pa.array(keep, pa.bool_())))
            return pa.concat_tables(tables)
        ds = ds.map_batches(read_part, batch_format="pyarrow", batch_size=1, num_cpus=0,
                            compute=ray.data.TaskPoolStrategy(size=2))
        if args.limit:
            ds = ds.limit(args.limit)
        threads = max(1, args.threads_per_worker)
        workers = args.workers or max(1, int(ray.cluster_resources().get("CPU", 1)) // threads)
        ds = ds.map_batches(DecodeActor, batch_format="pyarrow", batch_size=args.batch_size,
                            fn_constructor_kwargs={"model": os.path.abspath(args.model), "output": os.path.abspath(
                                args.output), "threads": threads, "fmt": fmt, "gpu": args.gpu},
                            compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=threads)
        prog = Progress(0, enabled=args.progress)
        for b in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            for f, e, s in zip(b.column("files").to_pylist(), b.column("errors").to_pylist(),
                               b.column("seconds").to_pylist()):
                prog.add(f, e, s)
        print(f"\ncodec_cpp.corpus: decoded {prog.files} files ({prog.seconds / 3600:.4f} h), {prog.errors} errors "
              f"-> {args.output}", file=sys.stderr)
        return 1 if prog.errors else 0
    finally:
        if not args.keep_ray:
            ray.shutdown()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m codec_cpp.corpus",
                                description="Tokenize an audio corpus with codec.cpp on Ray Data (local or a cluster).")
    sub = p.add_subparsers(dest="command", metavar="{encode,decode}")
    sub.required = True

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--model", required=True, help="model file (GGUF); on a cluster: a path every node can read")
        sp.add_argument("--workers", type=int, default=0, help="encoder actors (default: cluster CPUs // threads)")
        sp.add_argument("--threads-per-worker", type=int, default=1, help="CPU threads per actor (default 1)")
        sp.add_argument("--batch-size", type=int, default=16, help="files per batch and per output part (default 16)")
        sp.add_argument("--address", default=None, help="Ray cluster address ('auto': the one running here); "
                        "default RAY_ADDRESS, else a local Ray on this machine")
        sp.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray (default: all)")
        sp.add_argument("--gpu", action="store_true", help="run the model on the GPU backend if ggml has one")
        sp.add_argument("--no-progress", dest="progress", action="store_false", help="no progress line")
        sp.add_argument("--keep-ray", action="store_true", help=argparse.SUPPRESS)

    sp = sub.add_parser("encode", help="audio files -> Parquet tables of codes (resumable)")
    common(sp)
    sp.add_argument("--input", required=True, action="append",
                    help="glob ('data/**/*.flac'), directory, file, or Parquet table(s) with an audio column (bytes); repeatable")
    sp.add_argument("--output", required=True, help="output directory: codes/ and errors/ Parquet parts")
    sp.add_argument("--n-q", type=int, default=-1, help="codebooks (default: all)")
    sp.add_argument("--bandwidth", type=float, default=None, help="kbps, one of the model's (sets n_q)")
    sp.add_argument("--audio-column", default="audio", help="table input: column with the file bytes")
    sp.add_argument("--path-column", default="path", help="table input: column naming each row")
    sp.add_argument("--decode-cpus", type=float, default=0.0,
                    help="CPUs reserved per read/decode/resample task (default 0: they share the actors' cores)")
    sp.add_argument("--retry-errors", action="store_true", help="encode again files recorded in errors/")
    sp.add_argument("--force", action="store_true", help="write into an output made with another model or n_q")
    sp.add_argument("--test-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    sp = sub.add_parser("decode", help="Parquet tables of codes -> audio files, to check a dataset by ear")
    common(sp)
    sp.add_argument("--input", required=True, help="the encode job's output directory (or a Parquet file)")
    sp.add_argument("--output", required=True, help="directory for <stem>-<hash>.<format> files")
    sp.add_argument("--format", default="wav", choices=("wav", "flac"))
    sp.add_argument("--limit", type=int, default=0, help="decode at most this many rows")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return cmd_encode(args) if args.command == "encode" else cmd_decode(args)
    except (ValueError, FileNotFoundError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
