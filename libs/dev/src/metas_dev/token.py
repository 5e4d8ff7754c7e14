"""Mint a JWT with the local secret: `python -m metas_dev.token --sub ana --roles registrar --units DAS`."""

from __future__ import annotations

import argparse
from pathlib import Path

from metas_dev.credentials import jwt_secret
from metas_kit.auth import Principal, issue_token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sub", default="local-user")
    parser.add_argument("--roles", nargs="+", default=["viewer"])
    parser.add_argument("--units", nargs="*", default=[])
    parser.add_argument("--ttl", type=int, default=12 * 3600, help="seconds")
    parser.add_argument("--var", type=Path, default=Path("var"))
    args = parser.parse_args()
    principal = Principal(sub=args.sub, roles=frozenset(args.roles), units=frozenset(args.units))
    print(issue_token(principal, jwt_secret(args.var), ttl_seconds=args.ttl))


if __name__ == "__main__":
    main()
