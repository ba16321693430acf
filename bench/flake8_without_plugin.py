"""Run flake8 exactly as if flake8-django-goc were not installed: the baseline of bench/run.py.

flake8 discovers plugins through ``flake8.plugins.finder._find_importlib_plugins``; this wrapper
drops the ``flake8-django-goc`` distribution from what it yields, so the plugin module is never
imported, its options are never registered and it never runs. Everything else (interpreter,
flake8, pycodestyle, pyflakes, the other installed plugins) is the same as in the measured run,
with no reinstall between runs. ``--version`` shows the plugin list, to check.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from flake8 import utils
from flake8.main.cli import main
from flake8.plugins import finder

PLUGIN = "flake8-django-goc"
_find_importlib_plugins = finder._find_importlib_plugins


def _without_plugin() -> Iterator[finder.Plugin]:
    for plugin in _find_importlib_plugins():
        if utils.normalize_pypi_name(plugin.package) != PLUGIN:
            yield plugin


finder._find_importlib_plugins = _without_plugin

if __name__ == "__main__":
    sys.exit(main())
