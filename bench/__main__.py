"""python -m bench run ... | python -m bench table FILES..."""

from __future__ import annotations

import argparse
import sys

from bench.duties import add_arguments as add_duties_arguments
from bench.duties import command_duties
from bench.micro import add_arguments as add_micro_arguments
from bench.micro import command_micro
from bench.profile import command_profile
from bench.run import add_run_arguments, command_run
from bench.sendpath import add_arguments as add_sendpath_arguments
from bench.sendpath import command_sendpath
from bench.table import command_table
from bench.txn import add_arguments as add_txn_arguments
from bench.txn import command_txn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run one load on one configuration, Circle beside the reference")
    add_run_arguments(run)
    run.set_defaults(handler=command_run)
    table = commands.add_parser("table", help="the markdown table of result files (docs/performance.md)")
    table.add_argument("files", nargs="+")
    table.set_defaults(handler=command_table)
    profile = commands.add_parser("profile", help="summarise py-spy profiles written by run --profile")
    profile.add_argument("files", nargs="+")
    profile.add_argument("--top", type=int, default=40)
    profile.add_argument("--all", action="store_true", help="do not favour the project's own functions")
    profile.set_defaults(handler=command_profile)
    micro = commands.add_parser("micro", help="CPU per chat message through the ASGI app, in process (before/after)")
    add_micro_arguments(micro)
    micro.set_defaults(handler=command_micro)
    duties = commands.add_parser("duties", help="the hub's stats tick and due-timer sweep as sessions fill up")
    add_duties_arguments(duties)
    duties.set_defaults(handler=command_duties)
    txn = commands.add_parser("txn", help="chat.send's transaction alone on PostgreSQL, prepared statements on and off")
    add_txn_arguments(txn)
    txn.set_defaults(handler=command_txn)
    sendpath = commands.add_parser("sendpath", help="CPU per frame sent through the socket's auth stack")
    add_sendpath_arguments(sendpath)
    sendpath.set_defaults(handler=command_sendpath)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
