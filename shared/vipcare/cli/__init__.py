"""The `vipcare` console script (tools for operators, not part of any Lambda function).

    vipcare import members.csv [--api URL] [--token TOKEN] [--brand demo] [--rejects FILE]
    vipcare backfill-care [--segments 4]   (once after upgrading: fills in the sparse indexes)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from . import import_members


def _local_token(api: str, brand: str) -> str:
    """The local stack hands out tokens (`POST /_local/token`); a deployed API never does."""
    body = json.dumps({"brand_id": brand, "role": "admin", "store_id": None}).encode()
    request = urllib.request.Request(f"{api.rstrip('/')}/_local/token", data=body, method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json"})  # (http(s) only: _api_url)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())["token"]


def _api_url(text: str) -> str:
    if urlsplit(text).scheme not in ("http", "https"):
        raise argparse.ArgumentTypeError("must be an http(s) URL")
    return text


def _import(args: argparse.Namespace) -> int:
    source = Path(args.csv)
    try:
        rows, header = import_members.read_rows(source)
    except (OSError, UnicodeDecodeError, import_members.RowError) as exc:
        print(f"vipcare import: {source}: {exc}", file=sys.stderr)
        return 2
    token = args.token or os.environ.get("VIPCARE_TOKEN")
    if not token:
        if urlsplit(args.api).hostname not in ("127.0.0.1", "localhost"):
            print("vipcare import: --token (or VIPCARE_TOKEN) is required for a deployed API", file=sys.stderr)
            return 2
        token = _local_token(args.api, args.brand)
    result = import_members.run(rows, len(rows), import_members.http_sender(args.api, token),
                                progress=None if args.quiet else sys.stderr)
    rejects = Path(args.rejects) if args.rejects else source.with_suffix(".rejects.csv")
    if result.rejected:
        import_members.write_rejects(rejects, header, result.rejected)
    print(f"{result.total} rows: {result.created} created, {result.existing} already there, "
          f"{len(result.rejected)} rejected" + (f" (see {rejects})" if result.rejected else ""))
    return 1 if result.rejected else 0


def _backfill(args: argparse.Namespace) -> int:
    """Talks to DynamoDB directly with the operator's AWS credentials and the table names of
    the deployment (MEMBERS_TABLE, CARE_TABLE, DIRECTORY_TABLE ... as in template.yaml)."""
    from collections import Counter
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    from ..api.events import moment
    from ..services.backfill import backfill_care, summary
    from ..wiring import care

    # The command's one reading of the clock, unless --now replays it for a given moment.
    now = moment(args.now) if args.now else datetime.now(UTC)
    with ThreadPoolExecutor(max_workers=args.segments) as pool:
        deps = care()
        parts = list(pool.map(lambda n: backfill_care(now, care=deps, segment=n, segments=args.segments),
                              range(args.segments)))
    print(json.dumps(summary(sum(parts, Counter()))))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vipcare", description="VIP Care operator tools")
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="enrol the members of a CSV export through the API",
                              description=import_members.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    imp.add_argument("csv", help="the spreadsheet export (UTF-8 CSV with a header row)")
    imp.add_argument("--api", type=_api_url, default=os.environ.get("VIPCARE_API", "http://127.0.0.1:3000"),
                     help="the API's URL (env VIPCARE_API)")
    imp.add_argument("--token", help="a staff ID token (admin, or staff of every store in the file)")
    imp.add_argument("--brand", default="demo", help="brand of the local stack's token when no --token is given")
    imp.add_argument("--rejects", help="where to write the rejected rows (default: <csv>.rejects.csv)")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    back = commands.add_parser("backfill-care", help="once after upgrading: holiday audience, cadence reviews, "
                               "points notices, the brand roll and purchase history for members who existed before",
                               description=_backfill.__doc__)
    back.add_argument("--segments", type=int, default=4, choices=range(1, 33), metavar="N",
                      help="parallel scan segments (1-32)")
    back.add_argument("--now", metavar="ISO-TIME", help="the moment to backfill as of, with its offset "
                      "(default: the clock), e.g. 2026-12-01T02:00:00Z")
    args = parser.parse_args(argv)
    return _backfill(args) if args.command == "backfill-care" else _import(args)


if __name__ == "__main__":
    sys.exit(main())
