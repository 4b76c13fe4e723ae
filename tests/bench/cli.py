"""The command line every report-writing benchmark shares: measure (or re-render), save, print.

Each benchmark adds its own size options; the figures go to `<output>.json` beside the report, so
`--render-only` rewrites the report from them without measuring again.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Run = Callable[[argparse.Namespace], dict[str, Any]]
Render = Callable[[dict[str, Any]], str]


def parser(description: str, output: Path) -> argparse.ArgumentParser:
    """The shared options (`--output`, `--render-only`); the caller adds its sizes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--output", type=Path, default=output)
    parser.add_argument("--render-only", action="store_true", help="rewrite the report from the saved figures")
    return parser


def measure_and_report(args: argparse.Namespace, run: Run, render: Render) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a stopped run still stops its stack (finally)
    figures = args.output.with_suffix(".json")
    if not args.render_only:
        figures.write_text(json.dumps(run(args), indent=1))
    text = render(json.loads(figures.read_text()))
    args.output.write_text(text)
    print("\n" + text)
