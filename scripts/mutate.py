"""`make mutate`: mutation testing of the scoring engine and the pure domain modules (mutmut, pinned in pyproject).

    python scripts/mutate.py run [--jobs N] [GLOB...]  # mutmut run on what [tool.mutmut] names (or only the mutants
                                                   # whose names match, e.g. 'metas_rules.numbers.*'), then the report
    python scripts/mutate.py report [--surviving]
    python scripts/mutate.py rerun [--all]         # only the survivors of the last run, after adding tests
    python scripts/mutate.py show NAME...          # the diff of a mutant and its class

What is mutated and which tests run is configured in pyproject.toml ([tool.mutmut]). The packages stay where they
are (libs/rules/src, services/*/src): mutmut copies them into mutants/ with the same paths, and pytest's
`pythonpath` setting puts the mutated copies first. The one thing mutmut 3 cannot know is that a file under
`<anything>/src/` is imported as the module below `src/` (it strips only a leading `src/`), so its naming function is
wrapped here — the same file names, the same module names the tests import.

The report counts, per file, killed / total mutants in three classes:
- logic: the mutant changes what the code computes or decides (anything not in the two classes below);
- trace: every change lies inside an explanation step a person reads (`trace.add(...)`, `Step(...)`, `describe()`);
- message: every change lies inside an error message, a `reason=` text or a reconciliation check's description.
A timeout counts as killed (the test run did not pass); mutants no test reaches count as survivors.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
KILLED_CODES = {1, 3, 36, 24, -24, 152, 255, -9, -11}  # failed, pytest error, timeouts/killed by a limit
TRACE_CALLS = {"Step"}
TRACE_RECEIVERS = {"trace", "tr"}
MESSAGE_KEYWORDS = {"reason"}
MESSAGE_CALLS = {"_Impossible", "_Always", "_Pending", "_Missing"}
# (receiver, method) → index of the positional argument that is human text (a reconciliation check's description)
TEXT_ARGUMENTS = {("c", "amount"): 3, ("c", "text"): 3}
TEXT_FUNCTIONS = {"describe"}


def module_relative(path: Path) -> str:
    """`libs/rules/src/metas_rules/engine/quar.py` → `metas_rules/engine/quar.py` (what is imported)."""
    parts = path.parts
    if "src" in parts:
        cut = len(parts) - 1 - parts[::-1].index("src")
        return str(Path(*parts[cut + 1 :]))
    return str(path)


def _install_src_layout_naming() -> None:
    import mutmut.__main__ as main
    import mutmut.mutation.file_mutation as file_mutation
    import mutmut.utils.format_utils as format_utils

    original = format_utils.get_mutant_name

    def get_mutant_name(relative_source_path: Path, mutant_method_name: str) -> str:
        return original(Path(module_relative(Path(relative_source_path))), mutant_method_name)

    for module in (format_utils, file_mutation, main):
        module.get_mutant_name = get_mutant_name  # type: ignore[attr-defined]


def run(jobs: int, names: list[str] | None = None) -> int:
    """A full run, or (names given) a re-run of those mutants only, e.g. the survivors after new tests."""
    os.chdir(ROOT)
    os.environ.setdefault("METAS_HYPOTHESIS_PROFILE", "mutate")  # tests/rules/conftest.py
    # Every mutant runs pytest once: the unraisable-exception plugin's forced gc.collect() at unconfigure took
    # ~70 % of that run here, and the suites of this command need none of these plugins (no verdict depends on them).
    os.environ["PYTEST_ADDOPTS"] = " ".join(
        f"-p no:{p}" for p in ("unraisableexception", "schemathesis", "xdist", "anyio", "respx")
    )
    _install_src_layout_naming()
    import mutmut.__main__ as main

    # mutmut keeps which tests reach which function in mutants/mutmut-stats.json and traces again only tests with new
    # names: a test edited since (say, one that now also asks a ratio rule) would not be run against the mutants it
    # now reaches, and they would seem to survive. Tracing every test again costs one run of the suites.
    (MUTANTS / "mutmut-stats.json").unlink(missing_ok=True)
    started = time.monotonic()
    try:
        main.cli(["run", "--max-children", str(jobs), *(names or [])], standalone_mode=False)
    except SystemExit as exc:
        if exc.code not in (0, None):
            return int(exc.code) if isinstance(exc.code, int) else 1
    elapsed = time.monotonic() - started
    print(f"\nmutmut run took {elapsed:.0f} s with {jobs} worker(s)")
    return report(surviving=False)


# --- classification -------------------------------------------------------------------------------------------


def _functions(tree: ast.AST) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    out: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out[node.name] = node
    return out


def _differences(a: object, b: object) -> Iterator[ast.AST]:
    """The smallest nodes of `a` (the original) that differ from `b` (the mutant)."""
    if type(a) is not type(b):
        if isinstance(a, ast.AST):
            yield a
        return
    if not isinstance(a, ast.AST):
        return
    assert isinstance(b, ast.AST)
    for name in a._fields:
        va, vb = getattr(a, name, None), getattr(b, name, None)
        if name in ("name",) and isinstance(a, ast.FunctionDef | ast.AsyncFunctionDef):
            continue  # x_f__mutmut_orig vs x_f__mutmut_3
        if isinstance(va, list) and isinstance(vb, list):
            if len(va) != len(vb):
                yield a
                return
            for x, y in zip(va, vb, strict=True):
                yield from _differences(x, y)
        elif isinstance(va, ast.AST) or isinstance(vb, ast.AST):
            if va is None or vb is None or type(va) is not type(vb):
                yield a
            else:
                yield from _differences(va, vb)
        elif va != vb:
            yield a
            return


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents


def _within(node: ast.AST, ancestor: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    current: ast.AST | None = node
    while current is not None:
        if current is ancestor:
            return True
        current = parents.get(current)
    return False


def _context(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str:
    """`trace`, `message` or `logic` for one changed node of the original function."""
    current: ast.AST | None = node
    while current is not None:
        if isinstance(current, ast.Call):
            func = current.func
            if isinstance(func, ast.Name) and func.id in TRACE_CALLS:
                return "trace"
            if isinstance(func, ast.Attribute) and func.attr == "add":
                receiver = func.value
                if isinstance(receiver, ast.Name) and receiver.id in TRACE_RECEIVERS:
                    return "trace"
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                index = TEXT_ARGUMENTS.get((func.value.id, func.attr))
                if index is not None and len(current.args) > index and _within(node, current.args[index], parents):
                    return "message"
            if isinstance(func, ast.Name) and (func.id.endswith("Error") or func.id in MESSAGE_CALLS):
                return "message"  # raise SomethingError("…"): the text of an error
        if isinstance(current, ast.keyword) and current.arg in MESSAGE_KEYWORDS:
            return "message"
        if isinstance(current, ast.FunctionDef) and any(
            current.name.endswith(f"ǁ{t}__mutmut_orig") for t in TEXT_FUNCTIONS
        ):
            return "trace"
        current = parents.get(current)
    return "logic"


def classify_file(mutated: Path) -> dict[str, str]:
    """mutant function name → class, for every mutant in one mutated file."""
    tree = ast.parse(mutated.read_text(encoding="utf-8"))
    functions = _functions(tree)
    parents = _parents(tree)
    classes: dict[str, str] = {}
    for name, node in functions.items():
        if "__mutmut_" not in name or name.endswith("__mutmut_orig"):
            continue
        base = name.rpartition("__mutmut_")[0]
        original = functions.get(base + "__mutmut_orig")
        if original is None:
            classes[name] = "logic"
            continue
        changed = list(_differences(original, node))
        kinds = {_context(c, parents) for c in changed} or {"logic"}
        if kinds == {"trace"}:
            classes[name] = "trace"
        elif kinds <= {"trace", "message"}:
            classes[name] = "message"
        else:
            classes[name] = "logic"
    return classes


# --- report ---------------------------------------------------------------------------------------------------


def survivors(*, logic_only: bool) -> list[str]:
    """Names of the mutants that no test killed (all classes, or logic ones only)."""
    names: list[str] = []
    for meta_path in _meta_files():
        mutated = meta_path.with_suffix("")
        classes = classify_file(mutated)
        for key, code in json.loads(meta_path.read_text())["exit_code_by_key"].items():
            if code is None:
                continue  # not run (a run of some mutants only): not a survivor, left out as in the report
            if code not in KILLED_CODES and (not logic_only or classes.get(key.rpartition(".")[2]) == "logic"):
                names.append(key)
    return names


def _meta_files() -> list[Path]:
    return sorted(p for p in MUTANTS.rglob("*.py.meta"))


def report(*, surviving: bool) -> int:
    if not MUTANTS.is_dir():
        print("no mutants/ folder: run `make mutate` first", file=sys.stderr)
        return 2
    rows: list[tuple[str, Counter[str], Counter[str]]] = []
    survivors: list[str] = []
    for meta_path in _meta_files():
        mutated = meta_path.with_suffix("")  # x.py.meta → x.py
        rel = mutated.relative_to(MUTANTS)
        exit_codes: dict[str, int | None] = json.loads(meta_path.read_text())["exit_code_by_key"]
        if not exit_codes:
            continue
        classes = classify_file(mutated)
        total: Counter[str] = Counter()
        killed: Counter[str] = Counter()
        for key, code in exit_codes.items():
            function = key.rpartition(".")[2]
            kind = classes.get(function, "logic")
            if code is None:  # not run yet (an interrupted run): left out of the scores, counted apart
                total["untested"] += 1
                continue
            total[kind] += 1
            total["all"] += 1
            if code in KILLED_CODES:
                killed[kind] += 1
                killed["all"] += 1
            elif kind == "logic" or surviving:
                survivors.append(f"{kind:7} {key} (exit {code})")
        rows.append((str(rel), total, killed))

    def cell(k: Counter[str], t: Counter[str], kind: str) -> str:
        if not t[kind]:
            return "-"
        return f"{k[kind]}/{t[kind]} {100 * k[kind] / t[kind]:.1f}%"

    header = f"{'file':58} {'logic':>17} {'trace':>17} {'message':>15} {'all':>17} {'not run':>8}"
    print(header)
    print("-" * len(header))
    grand_t: Counter[str] = Counter()
    grand_k: Counter[str] = Counter()
    below: list[str] = []
    for name, t, k in rows:
        grand_t.update(t)
        grand_k.update(k)
        print(
            f"{name:58} {cell(k, t, 'logic'):>17} {cell(k, t, 'trace'):>17} {cell(k, t, 'message'):>15} "
            f"{cell(k, t, 'all'):>17} {t['untested']:>8}"
        )
        if t["logic"] and k["logic"] / t["logic"] < 0.9:
            below.append(name)
    print("-" * len(header))
    print(
        f"{'total':58} {cell(grand_k, grand_t, 'logic'):>17} {cell(grand_k, grand_t, 'trace'):>17} "
        f"{cell(grand_k, grand_t, 'message'):>15} {cell(grand_k, grand_t, 'all'):>17} {grand_t['untested']:>8}"
    )
    if survivors:
        print(
            f"\nsurviving {'' if surviving else 'logic '}mutants ({len(survivors)};"
            " `python scripts/mutate.py show NAME` prints one):"
        )
        for line in survivors:
            print("  " + line)
    if below:
        print(f"\nlogic score below 90 % in: {', '.join(below)}")
        return 1
    return 0


def show(names: list[str]) -> int:
    """Print the diff of each named mutant (`metas_rules.engine.quar.x_quar_rate__mutmut_12`)."""
    import difflib

    by_module: dict[str, Path] = {}
    for meta_path in _meta_files():
        mutated = meta_path.with_suffix("")
        module = module_relative(mutated.relative_to(MUTANTS)).removesuffix(".py").replace("/", ".")
        by_module[module] = mutated
    parsed: dict[str, tuple[str, dict[str, ast.FunctionDef | ast.AsyncFunctionDef], dict[str, str]]] = {}
    for name in names:
        module, _, function = name.rpartition(".")
        if module not in parsed:
            source = by_module[module].read_text(encoding="utf-8")
            parsed[module] = (source, _functions(ast.parse(source)), classify_file(by_module[module]))
        source, functions, classes = parsed[module]
        base = function.rpartition("__mutmut_")[0]
        a = ast.get_source_segment(source, functions[base + "__mutmut_orig"]) or ""
        b = ast.get_source_segment(source, functions[function]) or ""
        print(f"# {name} [{classes.get(function)}]")
        diff = difflib.unified_diff(a.splitlines()[1:], b.splitlines()[1:], lineterm="", n=0)
        print("\n".join(line for line in diff if not line.startswith(("---", "+++", "@@"))))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run")
    run_p.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATE_JOBS", "2")))
    run_p.add_argument("only", nargs="*", help="mutant name globs (mutmut 3 matches them with fnmatch); none = all")
    rep = sub.add_parser("report")
    rep.add_argument("--surviving", action="store_true", help="list surviving trace and message mutants too")
    rerun_p = sub.add_parser("rerun", help="re-run the surviving mutants (after adding tests)")
    rerun_p.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATE_JOBS", "2")))
    rerun_p.add_argument("--all", action="store_true", help="trace and message survivors too, not only logic ones")
    show_p = sub.add_parser("show")
    show_p.add_argument("names", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "show":
        return show(args.names)
    if args.command == "rerun":
        names = survivors(logic_only=not args.all)
        print(f"re-running {len(names)} surviving mutants")
        return run(args.jobs, names) if names else report(surviving=False)
    if args.command == "run":
        return run(args.jobs, args.only or None)
    return report(surviving=args.surviving)


if __name__ == "__main__":
    raise SystemExit(main())
