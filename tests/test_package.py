"""House rules of the package itself: its public names, its errors and the purity of its core."""

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import subbill
from subbill import errors
from subbill._layers import CORE, EDGE, LAYERS

SRC = Path(subbill.__file__).parent
# The edge: these modules and packages may format text, read the clock or touch storage.
# Everything else is core, and imports none of them (not even inside a function).
EDGE_MODULES = set(EDGE)  # written once, in subbill._layers
FORBIDDEN_IMPORTS = {
    "subbill.storage",
    "subbill.cli",
    "subbill.l10n",
    "sqlite3",
    "os",
    "io",
    "pathlib",
    "socket",
    "subprocess",
    "shutil",
    "tempfile",
    "urllib",
    "http",
    "requests",
    "time",
}


def _core_modules() -> list[Path]:
    return [
        path
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).parts[0].removesuffix(".py") not in EDGE_MODULES
    ]


def _imported_names(path: Path, package: str | None = None) -> set[str]:
    """Every module ``path`` imports, wherever the import stands (top level or in a function).

    ``from subbill import l10n`` counts as ``subbill.l10n``; a relative import is resolved
    against the module's ``package`` (by default, where ``path`` stands in ``subbill``).
    """
    if package is None:
        package = ".".join(("subbill", *path.relative_to(SRC).parent.parts))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            imported.add(base)
            imported.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            imported.update(
                arg.value
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            )
    return imported


def _isort_key(name: str) -> tuple[int, str]:
    if name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def test_all_is_sorted_constants_then_classes_then_functions():
    assert subbill.__all__ == sorted(subbill.__all__, key=_isort_key)
    assert len(set(subbill.__all__)) == len(subbill.__all__)


def test_every_exported_name_exists_and_is_documented():
    for name in subbill.__all__:
        value = getattr(subbill, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name} has no docstring"


def test_package_is_typed():
    assert (SRC / "py.typed").exists()


def test_every_module_has_a_docstring():
    for info in pkgutil.walk_packages(subbill.__path__, "subbill."):
        module = importlib.import_module(info.name)
        assert module.__doc__, f"{info.name} has no docstring"


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: p.stem)
def test_core_module_imports_no_io_storage_or_edge(path):
    imported = _imported_names(path)
    for name in imported:
        for forbidden in FORBIDDEN_IMPORTS:
            assert name != forbidden, f"{path.name} imports {name}"
            assert not name.startswith(forbidden + "."), f"{path.name} imports {name}"


def test_the_core_is_every_module_outside_the_edge():
    core = {str(path.relative_to(SRC)) for path in _core_modules()}
    assert {"invoices.py", "billing.py", "money.py", "usage.py", "portal.py"} <= core
    assert not {name for name in core if name.startswith(("l10n/", "storage/"))}
    assert not core & {"l10n.py", "cli.py", "pdf.py", "service.py", "tour.py", "__main__.py"}


def test_the_purity_check_sees_lazy_imports_in_every_spelling(tmp_path):
    # Issue 12: Invoice.to_text imported subbill.l10n inside the method, and the check let it.
    module = tmp_path / "lazy.py"
    module.write_text(
        "def to_text():\n"
        "    from subbill.l10n import invoice_text\n"
        "    from . import storage\n"
        "    from subbill import cli\n"
        "    return importlib.import_module('sqlite3')\n",
        encoding="utf-8",
    )
    imported = _imported_names(module, package="subbill")
    assert {"subbill.l10n", "subbill.storage", "subbill.cli", "sqlite3"} <= imported


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: p.stem)
def test_core_module_never_reads_the_clock_nor_uses_floats(path):
    text = path.read_text(encoding="utf-8")
    for pattern in (
        r"date\.today\(",
        r"datetime\.now\(",
        r"datetime\.utcnow\(",
        r"time\.time\(",
        r"\bfloat\(",
        r"getcontext\(\)\.(prec|rounding)\s*=",
        r"setcontext\(",
    ):
        assert not re.search(pattern, text), f"{path.name} matches {pattern}"


def test_every_error_has_a_code_and_the_root():
    classes = [
        value
        for value in vars(errors).values()
        if inspect.isclass(value)
        and issubclass(value, Exception)
        and value.__module__ == errors.__name__
        and not value.__name__.startswith("_")  # a private base builds messages, is never raised
    ]
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes)), "error codes must be unique"
    for cls in classes:
        assert issubclass(cls, errors.SubbillError)
        assert re.fullmatch(r"[a-z_]+", cls.code)
        if cls is not errors.SubbillError:
            # Storage failures are not the caller's bad value: they subclass RuntimeError.
            builtin = (
                RuntimeError if issubclass(cls, errors.StorageError) else ValueError | TypeError
            )
            assert issubclass(cls, builtin), f"{cls.__name__} needs a builtin base"


# -- the layers ---------------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    """``l10n/review.py`` → ``l10n.review``; ``storage/__init__.py`` → ``storage``."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


_MODULES = {
    "subbill." + ".".join(p for p in path.relative_to(SRC).with_suffix("").parts if p != "__init__")
    for path in SRC.rglob("*.py")
}


def _runtime_imports(path: Path) -> set[str]:
    """The subbill modules ``path`` imports at run time (``if TYPE_CHECKING:`` left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    package = ".".join(("subbill", *path.relative_to(SRC).parent.parts))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            # ``from subbill import l10n`` imports a module; ``from subbill import Money`` a name.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in _MODULES else base
                for alias in node.names
            ]
        for name in names:
            if name == "subbill":
                found.add("__init__")
            elif name.startswith("subbill."):
                found.add(name.removeprefix("subbill."))
    return found


def _layer_of(module: str) -> str:
    return module.split(".", maxsplit=1)[0]


def _import_graph() -> dict[str, set[str]]:
    return {_module_name(path): _runtime_imports(path) for path in sorted(SRC.rglob("*.py"))}


def test_every_module_has_a_layer_and_the_layer_order_is_written_once():
    assert LAYERS == CORE + EDGE
    assert len(set(LAYERS)) == len(LAYERS)
    modules = {_layer_of(module) for module in _import_graph()}
    assert modules == set(LAYERS), "a module without a layer, or a layer without a module"


def test_imports_point_down_the_layers_only():
    rank = {layer: index for index, layer in enumerate(LAYERS)}
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in _import_graph().items()
        for target in targets
        if rank[_layer_of(target)] > rank[_layer_of(module)]
    )
    assert upward == []


def _is_module(package: str, name: str) -> bool:
    folder = SRC.joinpath(*package.split(".")[1:])
    return (folder / f"{name}.py").exists() or (folder / name / "__init__.py").exists()


def test_no_module_imports_another_modules_private_names():
    # Issue 12's rule: a name another module uses is public there (named, documented,
    # in its __all__); importing a private module (``from subbill import _wire``) is fine.
    private = sorted(
        f"{path.relative_to(SRC)} imports {node.module}.{alias.name}"
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("subbill")
        for alias in node.names
        if alias.name.startswith("_")
        and not alias.name.startswith("__")
        and not _is_module(node.module, alias.name)
    )
    assert private == []


def test_there_is_no_import_cycle():
    graph = _import_graph()
    # Within a package, importing the package itself means its __init__ module.
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            raise AssertionError("import cycle: " + " → ".join(cycle))
        if module in done:
            return
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if target != module:
                visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def _defined_public_names(path: Path) -> set[str]:
    """The names a module defines at its top level that do not start with ``_``."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize(
    "path",
    [
        path
        for path in sorted(SRC.rglob("*.py"))
        # The package's own namespace re-exports; it defines nothing (tested above).
        if (not path.name.startswith("_") or path.name == "__init__.py")
        and path != SRC / "__init__.py"
    ],
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_all_lists_every_public_name_of_its_module(path):
    # A public module says what it offers: every name it defines without a leading
    # underscore is in its __all__, and everything in __all__ exists (a package's
    # __all__ re-exports its modules' names).
    module = importlib.import_module(
        "subbill."
        + ".".join(p for p in path.relative_to(SRC).with_suffix("").parts if p != "__init__")
    )
    exported = set(module.__all__)
    assert _defined_public_names(path) - exported == set()
    assert [name for name in module.__all__ if not hasattr(module, name)] == []


def test_trials_phases_and_their_policies_are_exported_from_the_package():
    for name in ("MissingPaymentMethod", "Phase", "Trial", "TrialAnchor", "TrialOutcome"):
        assert name in subbill.__all__
        assert getattr(subbill, name) is getattr(subbill.subscriptions, name)
