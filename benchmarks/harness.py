"""What every benchmark script shares: the emulators, the records, timing, profiles, tables, the machine.

- Emulators on 127.0.0.1 only: :class:`KinesisLocal` (``pyflink_kinesis.tools.local.LocalKinesis``, the pinned
  kinesis-local) and :class:`Kinesalite` (kinesalite, installed with npm into the pyflink-kinesis cache folder
  on first use). Both have ``name``, ``version``, ``port``, ``endpoint``, ``region``, ``credentials`` and
  ``client()``; :func:`open_emulator` picks one by name. kinesalite writes about 35x faster than kinesis-local
  (``/work/shared/notes/local-kinesis.md``), so throughput runs use it and the client side is what is measured.
- :class:`Records` / :class:`Serializer`: the benchmark records (a unique 8-digit prefix plus a fixed random
  blob, partition key ``pk-<i % 1000>``), cheap to make in any process.
- :func:`count_records`: how many records a stream holds (fresh streams: ``pyflink_kinesis.testing.Streams``).
- :func:`best_of`: best-of-N timing, the order of the methods rotated each round (an emulator speeds up as it
  warms and slows as it fills, so no method always goes first).
- :func:`profile`: a cProfile of one call, as text.
- :func:`markdown_table`, :func:`ratio`, :func:`machine`: the report.

Not a unit test; the scripts beside it (``beam_write.py``, ``beam_read.py``, ``run.py``) use it.
"""

from __future__ import annotations

import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence

if TYPE_CHECKING:
    import argparse

ROOT = Path(__file__).resolve().parent.parent

from pyflink_kinesis import EgressRecord  # noqa: E402
from pyflink_kinesis.tools.local import PACKAGE_DIR, LocalKinesis, cache_dir, install_locked, port_is_free  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
KINESALITE_DIR = Path(__file__).with_name("kinesalite")
MOTO_REQUIREMENTS = Path(__file__).with_name("requirements-moto.txt")
KINESALITE_VERSION = json.loads((KINESALITE_DIR / "package.json").read_text())["dependencies"]["kinesalite"]
EMULATORS = ("kinesalite", "kinesis-local")


# --- emulators --------------------------------------------------------------------------------------


class KinesisLocal(LocalKinesis):
    """The project's local Kinesis (kinesis-local, the npm package pinned by ``pyflink_kinesis/tools/emulator``)."""

    name = "kinesis-local"

    @property
    def version(self) -> str:
        return json.loads((PACKAGE_DIR / "package.json").read_text())["dependencies"]["kinesis-local"]


class Kinesalite(LocalKinesis):
    """kinesalite on 127.0.0.1, installed with npm into the cache folder on first use.

    It reuses LocalKinesis for everything but starting (ports, endpoint, region, credentials, client, stop).
    """

    name = "kinesalite"
    version = KINESALITE_VERSION

    @staticmethod
    def install() -> Path:
        """The kinesalite folder, installed with ``npm ci`` from ``benchmarks/kinesalite``'s lockfile."""
        return install_locked(KINESALITE_DIR, "kinesalite")

    def start(self) -> "Kinesalite":
        if self._process is not None:
            return self
        target = self.install()
        script = (
            "require('kinesalite')({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, "
            f"shardLimit: {self.shard_limit}}})"
            f".listen({self.port}, '127.0.0.1', () => console.log('listening'))"
        )
        self._process = subprocess.Popen(["node", "-e", script], cwd=target.parent.parent, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline().decode(errors="replace")
        if "listening" not in line:
            self.stop()
            raise SystemExit(f"kinesalite did not start: {line}")
        return self


def cached_venv(requirements: Path) -> Path:
    """The Python of a virtual environment in the cache folder with ``requirements`` installed: created with pip on
    first use, one per content of the file (for tools whose pins conflict with this project's)."""
    pins = requirements.read_bytes()
    venv = cache_dir() / "bench" / f"{requirements.stem}-{hashlib.sha256(pins).hexdigest()[:12]}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").is_file():
        log(f"creating {venv} with {requirements.name} ...")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(requirements)], check=True, timeout=900)
        (venv / ".installed").write_text("ok\n")
    return python


class Moto(LocalKinesis):
    """moto's server (``requirements-moto.txt``, in a virtual environment of its own) on 127.0.0.1.

    moto loses records under concurrent PutRecords to one shard: benchmarks/flink.py runs on it with one sink
    writer and one call in flight (``--parallelism 1 --max-inflight 1``) and checks that every record arrived. It reuses LocalKinesis for everything but
    starting and the health check."""

    name = "moto"
    version = MOTO_REQUIREMENTS.read_text().split("==")[-1].strip()

    def start(self) -> "Moto":
        if self._process is not None:
            return self
        python = cached_venv(MOTO_REQUIREMENTS)
        self._process = subprocess.Popen([str(python), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while not self.healthy():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"moto's server did not start on port {self.port}")
            time.sleep(0.2)
        return self

    def healthy(self) -> bool:
        return not port_is_free(self.port)


def open_emulator(name: str) -> Any:
    """A not yet started emulator by name (use it with ``with``)."""
    if name == "kinesalite":
        return Kinesalite()
    if name == "kinesis-local":
        return KinesisLocal()
    if name == "moto":
        return Moto()
    raise ValueError(f"unknown emulator {name!r}; expected one of {EMULATORS}")


def count_records(client: Any, stream: str) -> int:
    """Records in ``stream``, read from TRIM_HORIZON on every shard (bounded number of calls)."""
    total = 0
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        it = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(10_000):
            page = client.get_records(ShardIterator=it, Limit=10000)
            total += len(page["Records"])
            it = page.get("NextShardIterator")
            if not page["Records"] or not it:
                break
    return total


# --- records ----------------------------------------------------------------------------------------


class Records:
    """The benchmark's records: index -> data and partition key, cheap to make in any process."""

    def __init__(self, size: int) -> None:
        self.size = max(8, size)
        self.blob = os.urandom(self.size - 8)

    def data(self, i: int) -> bytes:
        return b"%08d" % i + self.blob

    @staticmethod
    def key(i: int) -> str:
        return f"pk-{i % 1000}"

    def entries(self, start: int, stop: int) -> List[Dict[str, Any]]:
        """PutRecords entries for records ``start`` to ``stop - 1``."""
        return [{"Data": self.data(i), "PartitionKey": self.key(i)} for i in range(start, stop)]

    def bytes_per_record(self) -> int:
        """Data plus a typical partition key: what Kinesis counts."""
        return self.size + 6


class Serializer:
    """Picklable serializer (index -> EgressRecord) for Beam pipelines and the writer."""

    def __init__(self, blob: bytes, stream: str) -> None:
        self.blob = blob
        self.stream = stream

    def __call__(self, i: int) -> EgressRecord:
        return EgressRecord(b"%08d" % i + self.blob, self.stream, f"pk-{i % 1000}")


def fill(client: Any, stream: str, records: Records, n: int, batch: int = 500) -> None:
    """Write records 0..n-1 with sequential put_records calls (at most 5 MB each); raises on any failure."""
    per_call = max(1, min(batch, (5 * 1024 * 1024) // (records.bytes_per_record() + 64)))
    for start in range(0, n, per_call):
        response = client.put_records(StreamName=stream, Records=records.entries(start, min(n, start + per_call)))
        if response.get("FailedRecordCount"):
            raise RuntimeError("the emulator failed records; this benchmark does not retry")


# --- timing -----------------------------------------------------------------------------------------


@dataclass
class Method:
    """One way of doing the benchmark's work.

    ``prepare()`` runs untimed before each timed ``run(prepared)``; ``check(prepared, result)`` runs untimed
    after it and raises if the work was not done (e.g. records missing).
    """

    label: str
    records: int
    run: Callable[[Any], Any]
    prepare: Callable[[], Any] = lambda: None
    check: Optional[Callable[[Any, Any], None]] = None


@dataclass
class Timing:
    label: str
    records: int
    seconds: float
    runs: List[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(methods: Sequence[Method], repeat: int, log: Callable[[str], None] = print) -> Dict[str, Timing]:
    """Run each method ``repeat`` times, the order rotated each round; the best (shortest) run counts."""
    out: Dict[str, Timing] = {m.label: Timing(m.label, m.records, float("inf")) for m in methods}
    methods = list(methods)
    for rep in range(repeat):
        k = rep % len(methods)
        for m in methods[k:] + methods[:k]:
            prepared = m.prepare()
            log(f"  round {rep + 1}/{repeat}: {m.label}: {m.records} records ...")
            start = time.perf_counter()
            result = m.run(prepared)
            seconds = time.perf_counter() - start
            if m.check is not None:
                m.check(prepared, result)
            t = out[m.label]
            t.runs.append(seconds)
            t.seconds = min(t.seconds, seconds)
    return out


def profile(fn: Callable[[], Any], top: int = 25) -> str:
    """cProfile of ``fn()``: the top functions by cumulative and by internal time."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        fn()
    finally:
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


# --- the report -------------------------------------------------------------------------------------


def ratio(value: float, reference: float, digits: int = 2) -> str:
    """``value / reference`` as ``"0.93x"`` (``"-"`` without a reference)."""
    if not reference or reference != reference:
        return "-"
    return f"{value / reference:.{digits}f}x"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Optional[Sequence[bool]] = None
                   ) -> str:
    """A markdown table; ``numeric`` columns are right-aligned (by default every column but the first)."""
    if numeric is None:
        numeric = [False] + [True] * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def _versions() -> Dict[str, str]:
    from importlib import metadata

    out = {}
    for package in ("apache-beam", "boto3", "botocore"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(emulator: Any = None) -> str:
    """One paragraph: cores, CPU, memory, OS, Python, Beam/boto3 versions, Node and the emulator."""
    versions = _versions()
    node = "unknown"
    if shutil.which("node"):
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    text = (f"{os.cpu_count()} cores ({_cpu_model()}), {_memory_gib()} RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, apache-beam {versions['apache-beam']} "
            f"(DirectRunner), boto3 {versions['boto3']} / botocore {versions['botocore']}, Node {node}")
    if emulator is not None:
        text += f"; emulator: {emulator.name} {emulator.version} on 127.0.0.1"
    return text + f"; {time.strftime('%Y-%m-%d %H:%M %Z')}."


def write_report(path: Path, text: str, append: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if append and path.exists():
        text = path.read_text() + "\n" + text
    path.write_text(text)


def log(message: str) -> None:
    print(message, flush=True)


def cli(doc: Optional[str], what: str, records: int, quick_records: int, shards: int, output: Path
        ) -> "argparse.ArgumentParser":
    """The options every throughput script takes (more may be added to the parser it returns)."""
    import argparse

    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--records", type=int, default=records, help=f"records per method (default {records})")
    parser.add_argument("--quick", action="store_true", help=f"a short run: {quick_records} records, one round")
    parser.add_argument("--size", type=int, default=100, help="bytes of data per record (default 100)")
    parser.add_argument("--shards", type=int, default=shards, help=f"shards per stream (default {shards})")
    parser.add_argument("--emulator", choices=EMULATORS, default="kinesalite")
    parser.add_argument("--repeat", type=int, default=None,
                        help="rounds, each method once per round in rotated order; the best round counts "
                             "(default 3, 1 with --quick)")
    parser.add_argument("--profile", action="store_true", help=f"cProfile the {what} run")
    parser.add_argument("--output", default=str(output), help="markdown file to write")
    parser.add_argument("--append", action="store_true", help="append to --output instead of replacing it")
    return parser


def publish(title: str, paragraphs: Sequence[str], profile_of: str, profile_text: str, output: str,
            append: bool = False) -> None:
    """Print the report, add the profile (if any), write it to ``output``."""
    text = "\n\n".join([f"# {title}", *paragraphs]) + "\n"
    print("\n" + text)
    if profile_text:
        text += f"\n## cProfile of the {profile_of} run\n\n```\n{profile_text}```\n"
        print(profile_text)
    write_report(Path(output), text, append)
    print(f"written to {output}")


def throughput_rows(timings: Dict[str, Timing], bytes_per_record: int, references: Dict[str, str]
                    ) -> List[Dict[str, Any]]:
    """A row per timing (method, records, seconds, rps, mbps) plus a ratio per ``references`` column
    (column name -> label of the reference method)."""
    rows = []
    for label, t in timings.items():
        row: Dict[str, Any] = {"method": label, "records": t.records, "seconds": t.seconds, "rps": t.rate,
                               "mbps": t.rate * bytes_per_record / 1e6}
        for column, reference in references.items():
            row[column] = t.rate / timings[reference].rate
        rows.append(row)
    return rows


def throughput_table(rows: Sequence[Dict[str, Any]], ratio_columns: Sequence[str]) -> str:
    return markdown_table(
        ["method", "records", "seconds", "records/s", "MB/s", *ratio_columns],
        [[r["method"], r["records"], f"{r['seconds']:.2f}", f"{r['rps']:.0f}", f"{r['mbps']:.2f}",
          *(f"{r[c]:.2f}x" for c in ratio_columns)] for r in rows])
