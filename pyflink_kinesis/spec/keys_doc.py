"""The key registry as text: the tables of the documentation's key page (docs/configuration-keys.md, between
``<!-- keys:NAME -->`` markers; tests/spec_support.py reads and regenerates them there) and what
``pyflink-kinesis keys`` / ``explain`` print."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Tuple

from .keys import PATHS, Key, all_keys, lookup, path_name

_COLUMNS = {"beam": "Beam", "flink": "PyFlink", "sql": "SQL `pyflink-kinesis`", "official-sql": "SQL `kinesis`"}


def _type(key: Key, markdown: bool = True) -> str:
    """The key's type: its choices (in Markdown, as code separated by escaped bars) or its type and unit."""
    if key.type == "enum":
        return " \\| ".join(f"`{c}`" for c in key.choices) if markdown else " | ".join(key.choices)
    return key.type + (f" ({key.unit})" if key.unit in ("ms", "s") else "")


def _cell(key: Key, path: str) -> str:
    """yes (with the path's own default where it differs), or a dash."""
    if not key.honoured_by(path):
        return "—"
    own = key.defaults.get(path)
    return f"yes ({own})" if own is not None else "yes"


def connector_table() -> str:
    """Markdown: every connector and table key, its type, default and which paths act on it."""
    lines = ["| key | type | default | " + " | ".join(_COLUMNS[p] for p in PATHS) + " |",
             "|---|---|---|" + "---|" * len(PATHS)]
    for key in all_keys("connector") + all_keys("table"):
        default = f"`{key.default}`".replace("|", "\\|") if key.default is not None else ""
        cells = " | ".join(_cell(key, p) for p in PATHS)
        lines.append(f"| `{key.name}` | {_type(key)} | {default} | {cells} |")
    return "\n".join(lines) + "\n"


def defaults_table() -> str:
    """Markdown: the keys whose default differs between paths, and why."""
    lines = ["| key | default | differs on | why |", "|---|---|---|---|"]
    for group in _groups(all_keys()):
        key = group[0]
        if key.defaults or key.jar_default:
            where = [f"{path_name(p)}: `{v}`" for p, v in key.defaults.items()]
            if key.jar_default:
                where.append(f"the jar's Java API: `{key.jar_default}`")
            names = ", ".join(f"`{k.name}`" for k in group)
            default = f"`{key.default}`" if key.default is not None else "none (the client's)"
            lines.append(f"| {names} | {default} | {'; '.join(where)} | {key.why} |")
    return "\n".join(lines) + "\n"


def _groups(keys: Iterable[Key]) -> List[List[Key]]:
    """Consecutive keys that share every field but the name (one entry of ``names`` in keys.json)."""
    groups: List[List[Key]] = []
    for key in keys:
        if groups and _same(groups[-1][0], key):
            groups[-1].append(key)
        else:
            groups.append([key])
    return groups


def _same(a: Key, b: Key) -> bool:
    return (a.kind, a.flink_key, a.botocore, a.botocore_scale, a.honoured, a.meaning, a.unit, a.why) == \
        (b.kind, b.flink_key, b.botocore, b.botocore_scale, b.honoured, b.meaning, b.unit, b.why)


def sdk_v1_table() -> str:
    """Markdown: the AWS SDK v1 / KPL names StateFun users have, and where each goes."""
    lines = ["| StateFun / SDK v1 name | meaning | Flink connector (SDK v2) | botocore `Config` |", "|---|---|---|---|"]
    for group in _groups(all_keys("sdk-v1")):
        key = group[0]
        names = ", ".join(f"`{k.name}`" for k in group[:3]) + (", ..." if len(group) > 3 else "")
        unit = f" ({key.unit})" if key.unit in ("ms", "s") else ""
        if not key.maps_anywhere:
            lines.append(f"| {names} | {key.meaning} | accepted with a `ConfigWarning` naming the key: no equivalent | — |")
            continue
        flink = f"`{key.flink_key}`" if key.flink_key else "—"
        botocore = "—"
        if key.botocore:
            botocore = f"`{key.botocore}`" + (" (s)" if key.botocore_scale != 1.0 else "")
        lines.append(f"| {names} | {key.meaning}{unit} | {flink} | {botocore} |")
    return "\n".join(lines) + "\n"


def tables() -> Dict[str, str]:
    """Every generated table by its README marker name."""
    return {"connector": connector_table(), "defaults": defaults_table(), "sdk-v1": sdk_v1_table()}


def explain(properties: Iterable[Tuple[str, str]]) -> Dict[str, Any]:
    """For ``explain``: each client property, the paths that act on it and what the others do."""
    out: Dict[str, Any] = {}
    for name, _ in properties:
        key = lookup(name)
        if key is None:
            out[name] = {"registry": "not a key this project reads; passed on to the connector"}
            continue
        out[name] = {"honoured_by": [p for p in PATHS if key.honoured_by(p)],
                     "ignored_by": {p: key.why_not(p) for p in PATHS if not key.honoured_by(p)}}
    return out


def describe(key: Key) -> str:
    """One key as ``pyflink-kinesis keys`` prints it."""
    lines = [f"{key.name} ({key.kind}, {_type(key, markdown=False)}" + (f", default {key.default}" if key.default else "") + ")",
             f"  {key.meaning}"]
    if key.flink_key:
        lines.append(f"  maps to: {key.flink_key}")
    for path in PATHS:
        if key.honoured_by(path):
            own = key.defaults.get(path)
            lines.append(f"  {path}: honoured" + (f", default {own}" if own else ""))
        else:
            lines.append(f"  {path}: not acted on: {key.why_not(path)}")
    if key.why:
        lines.append(f"  why: {key.why}")
    return "\n".join(lines)
