"""Imports run one way: surfaces → domain packages → base, connectors through the seam, no cycles.

The rules are import-linter contracts in pyproject.toml (``[tool.importlinter]``); the first test
runs them as ``lint-imports`` does and fails with its report. The second looks for import cycles
among the modules of the hub, the connectors and the benchmarks (every import counts: at module
level, in a function, under ``TYPE_CHECKING``), and names each cycle.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hub", "connectors", "bench", "audit")

def test_imports_keep_the_layer_contracts() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this tree's hub, not an installed one
    run = subprocess.run([str(lint_imports), "--no-cache", "--no-logo"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"lint-imports (pyproject.toml [tool.importlinter]):\n{run.stdout}\n{run.stderr}"


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every strongly connected set of modules (Tarjan, iterative), each sorted; a module that
    imports itself is a cycle of one.

    Hand-written because grimp finds cycles only between sibling packages (``nominate_cycle_breakers``,
    import-linter's ``acyclic_siblings``), not between modules, and networkx would be a dependency for
    these forty lines."""
    imports = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    counter = itertools.count()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in imports:
        if start in index:
            continue
        index[start] = low[start] = next(counter)
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(imports[start]))]
        while work:
            module, pending = work[-1]
            for imported in pending:
                if imported not in index:
                    index[imported] = low[imported] = next(counter)
                    stack.append(imported)
                    on_stack.add(imported)
                    work.append((imported, iter(imports[imported])))
                    break
                if imported in on_stack:
                    low[module] = min(low[module], index[imported])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    members = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        members.append(member)
                        if member == module:
                            break
                    if len(members) > 1 or module in imports[module]:
                        cycles.append(sorted(members))
    return sorted(cycles)


def describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    members = set(cycle)
    lines = [" ⇄ ".join(cycle)]
    for importer in cycle:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                lines.append(f"    {importer}:{detail['line_number']} {detail['line_contents']}")
    return "\n".join(lines)


def test_no_import_cycle_among_the_modules() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)
    cycles = import_cycles(graph)
    report = "\n".join(describe(graph, c) for c in cycles)
    assert not cycles, f"import cycles:\n{report}"


def test_the_hub_names_no_partner() -> None:
    """Config, vault, edge, CLI, sandbox, worker and queue loop over the manifests; none names a partner."""
    from hub.plugins import manifests

    codes = [m.code for m in manifests()]
    places = ["hub/config.py", "hub/vault", "hub/edge", "hub/cli", "hub/sandbox.py", "hub/worker.py", "hub/queue",
              "hub/plugins.py", "hub/context.py", "hub/seam.py", "hub/safety.py", "hub/partners.py", "hub/schemas.py"]
    found = subprocess.run(["git", "grep", "-n", "-i", "-w", *[f"-e{c}" for c in codes], "--", *places],
                           cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert found.stdout == "", f"partner names in the hub:\n{found.stdout}"
