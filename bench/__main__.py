"""python -m bench run ... | python -m bench table FILES..."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bench.duties import add_arguments as add_duties_arguments
from bench.duties import command_duties
from bench.lane import add_arguments as add_lane_arguments
from bench.lane import command_lane
from bench.lexicon import add_arguments as add_lexicon_arguments
from bench.lexicon import command_lexicon
from bench.micro import add_arguments as add_micro_arguments
from bench.micro import command_micro
from bench.profile import command_profile
from bench.run import add_run_arguments, command_run
from bench.sendpath import add_arguments as add_sendpath_arguments
from bench.sendpath import command_sendpath
from bench.table import command_table
from bench.txn import add_arguments as add_txn_arguments
from bench.txn import command_txn


def add_files_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+")


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    add_files_arguments(parser)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--all", action="store_true", help="do not favour the project's own functions")


# name, help, the arguments it takes, what runs it
SUBCOMMANDS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = [
    ("run", "run one load on one configuration, Circle beside the reference", add_run_arguments, command_run),
    ("table", "the markdown table of result files (docs/performance.md)", add_files_arguments, command_table),
    ("profile", "summarise py-spy profiles written by run --profile", add_profile_arguments, command_profile),
    (
        "micro",
        "CPU per chat message through the ASGI app, in process (before/after)",
        add_micro_arguments,
        command_micro,
    ),
    ("duties", "the hub's stats tick and due-timer sweep as sessions fill up", add_duties_arguments, command_duties),
    (
        "txn",
        "chat.send's transaction alone on PostgreSQL, prepared statements on and off",
        add_txn_arguments,
        command_txn,
    ),
    ("sendpath", "CPU per frame sent through the socket's auth stack", add_sendpath_arguments, command_sendpath),
    ("lane", "CPU per room event through the Redis layer's lanes (BZMPOP, ZPOPMIN)", add_lane_arguments, command_lane),
    (
        "lexicon",
        "the crisis lexicon's scan of a 2,000-character message, English and Spanish",
        add_lexicon_arguments,
        command_lexicon,
    ),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text, add_arguments, handler in SUBCOMMANDS:
        subcommand = commands.add_parser(name, help=help_text)
        add_arguments(subcommand)
        subcommand.set_defaults(handler=handler)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
