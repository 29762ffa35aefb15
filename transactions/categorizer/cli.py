"""Sub-commands for the ``nestegg`` CLI: ``categorizer train`` and ``categorize``.

Wire with ``add_categorizer_subcommands(subparsers)``; each parser sets ``func`` to a handler
taking the parsed namespace and returning an exit code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from transactions.categorizer.errors import CategorizerError


def _run_categorize(args: argparse.Namespace) -> int:
    from transactions.categorizer.artifacts import LocalArtifactStore, load_model, store_from_env
    from transactions.categorizer.csv_io import categorize_csv
    from transactions.categorizer.engine import CategorizationEngine

    try:
        store = LocalArtifactStore(args.store_dir) if args.store_dir else store_from_env()
        model = load_model(store, args.model_version)
        engine = CategorizationEngine(model, min_confidence=args.min_confidence)
        counts = categorize_csv(args.input, args.output, engine=engine)
    except (CategorizerError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{counts['rows']} rows: {counts['categorized']} categorised, "
        f"{counts['uncategorized']} left uncategorised (model {model.version})"
    )
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from transactions.categorizer.training import run_train

    try:
        return run_train(args)
    except (CategorizerError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def build_train_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(
        prog="nestegg categorizer train", description="Train the transaction categoriser."
    )
    parser.add_argument(
        "--corpus", type=Path, default=None, help="corpus .csv.gz (default: the shipped corpus)"
    )
    parser.add_argument("--corrections", type=Path, help="JSON list of corrected transactions")
    parser.add_argument(
        "--from-deployment",
        action="store_true",
        help="also fold in users' hand-set categories from the transactions database",
    )
    parser.add_argument(
        "--min-users",
        type=int,
        default=3,
        help="with --from-deployment: a merchant's category is used only when at least this "
        "many different users set it (default 3)",
    )
    parser.add_argument("--store-dir", type=Path, help="local artefact directory (default: env)")
    parser.add_argument("--no-save", action="store_true", help="do not save the model")
    parser.add_argument("--report-json", type=Path, help="write the report as JSON here")
    parser.add_argument("--min-confidence", type=float, default=0.5)
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def add_categorizer_subcommands(subparsers) -> None:
    """Add ``categorizer train`` and ``categorize`` to an argparse sub-parser collection."""
    group = subparsers.add_parser("categorizer", help="transaction categoriser model")
    group_sub = group.add_subparsers(dest="categorizer_command", required=True)
    train = group_sub.add_parser("train", help="train, evaluate and save the categoriser")
    build_train_parser(train)
    train.set_defaults(func=_run_train)

    categorize = subparsers.add_parser("categorize", help="categorise a bank statement CSV")
    categorize.add_argument("input", type=Path, help="CSV with description and amount columns")
    categorize.add_argument("-o", "--output", type=Path, required=True, help="output CSV")
    categorize.add_argument("--min-confidence", type=float, default=0.5)
    categorize.add_argument("--store-dir", type=Path, help="local artefact directory")
    categorize.add_argument("--model-version", help="a stored model version (default latest)")
    categorize.set_defaults(func=_run_categorize)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry for development: ``python -m transactions.categorizer.cli ...``."""
    parser = argparse.ArgumentParser(prog="nestegg")
    add_categorizer_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
