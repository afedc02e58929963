"""The house's floors: an app imports only the apps below it, however deep inside a function the import sits."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each app and the apps it may import. The project shell's helpers (tmw.errors, tmw.web, tmw.api, tmw.months,
# tmw.money, tmw.pdf, tmw.ics, tmw.tasks, tmw.celery, ...) are the basement that every app may use.
FLOORS: dict[str, set[str]] = {
    "tmw.accounts": set(),
    "tmw.ops": {"tmw.accounts"},
    "tmw.webhooks": {"tmw.accounts"},
    "tmw.directory": {"tmw.accounts"},
    # Every app above the ground floor may publish webhook events (tmw.webhooks sits on tmw.accounts alone).
    "diagnostics": {"tmw.accounts", "tmw.directory", "tmw.webhooks"},
    # The public channel-review booking leads into a diagnostic; diagnostics never reads bookings.
    "diagnostics.booking": {"tmw.accounts", "tmw.directory", "tmw.webhooks", "diagnostics"},
    "engagements": {"tmw.accounts", "tmw.directory", "tmw.webhooks", "diagnostics"},
    "commissions": {"tmw.accounts", "tmw.directory", "tmw.webhooks", "diagnostics", "engagements"},
    "community": {"tmw.accounts", "tmw.directory", "tmw.webhooks", "diagnostics", "engagements"},
    "tmw.dashboard": {
        "tmw.accounts",
        "tmw.ops",
        "tmw.webhooks",
        "tmw.directory",
        "diagnostics",
        "diagnostics.booking",
        "engagements",
        "commissions",
        "community",
    },
}
APPS = sorted(FLOORS, key=len, reverse=True)  # "tmw.accounts" before "tmw"
TOP_ONLY = {"tmw.urls", "tmw.dashboard"}


def app_of(module: str) -> str | None:
    for app in APPS:
        if module == app or module.startswith(app + "."):
            return app
    return None


def imported_modules(path: Path, package: str) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def app_files(app: str) -> list[Path]:
    """The app's own modules: not its migrations, not those of an app nested inside it."""
    folder = ROOT.joinpath(*app.split("."))
    nested = [ROOT.joinpath(*other.split(".")) for other in FLOORS if other.startswith(app + ".")]
    return sorted(
        p
        for p in folder.rglob("*.py")
        if "migrations" not in p.parts and not any(p.is_relative_to(inner) for inner in nested)
    )


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@pytest.mark.parametrize("app", sorted(FLOORS))
def test_app_imports_only_lower_floors(app):
    allowed = FLOORS[app] | {app}
    wrong = []
    files = app_files(app)
    assert files, f"{app} has no modules"
    for path in files:
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for module in imported_modules(path, package):
            other = app_of(module)
            if other is not None and other not in allowed:
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
            if app != "tmw.dashboard" and any(module == t or module.startswith(t + ".") for t in TOP_ONLY):
                wrong.append(f"{path.relative_to(ROOT)} imports {module} (top floor)")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_every_app_has_a_floor():
    from django.apps import apps

    ours = {config.name for config in apps.get_app_configs() if (ROOT / config.name.replace(".", "/")).is_dir()}
    assert ours <= set(FLOORS), f"apps without a floor: {sorted(ours - set(FLOORS))}"


# The shell's own modules: helpers every app uses may lean on the ground floor's tenancy; only the URL
# configuration and the API schema's enum names (settings) read every app.
SHELL_READS_EVERY_APP = {"tmw.urls", "tmw.api_enums"}


def test_shell_helpers_stay_below_the_apps():
    wrong = []
    for path in sorted(list((ROOT / "tmw").glob("*.py")) + list((ROOT / "tmw" / "templatetags").glob("*.py"))):
        name = module_name(path)
        if name in SHELL_READS_EVERY_APP:
            continue
        for module in imported_modules(path, name.rpartition(".")[0]):
            other = app_of(module)
            if other is not None and other != "tmw.accounts":
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, "\n".join(sorted(set(wrong)))
