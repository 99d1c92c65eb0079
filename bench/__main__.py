"""`make bench`: run every benchmark module and print its figures.

Each module in this package defines `run() -> None`, prints what it measured, and works on
its own database (`casepilot_bench` on the embedded server, or DATABASE_URL's), migrated here.
`python -m bench search` runs one module.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casepilot.settings")
    os.environ.setdefault("EMBEDDED_DB_NAME", "casepilot_bench")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    names = argv or sorted(
        info.name
        for info in pkgutil.iter_modules(importlib.import_module("bench").__path__)
        if not info.name.startswith("_")
    )
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        module.run()
        print(f"({name}: {time.perf_counter() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
