"""Mint a JWT with the local secret: `python -m metas_dev.token --sub ana --roles registrar --org ipsm --units DS`
(without --org: installation-wide, the roles/units meaning of tokens before grants)."""

from __future__ import annotations

import argparse
from pathlib import Path

from metas_dev.credentials import jwt_secret
from metas_kit.auth import ANY_ORG, Grant, Principal, issue_token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sub", default="local-user")
    parser.add_argument("--roles", nargs="+", default=["viewer"])
    parser.add_argument("--units", nargs="*", default=[])
    parser.add_argument("--org", default=ANY_ORG, help="organisation code of every role's grant, or '*'")
    parser.add_argument("--ttl", type=int, default=12 * 3600, help="seconds")
    parser.add_argument("--var", type=Path, default=Path("var"))
    args = parser.parse_args()
    if args.org == ANY_ORG:
        principal = Principal(args.sub, args.roles, args.units)
    else:
        principal = Principal(args.sub, grants=[Grant(role, args.org, frozenset(args.units)) for role in args.roles])
    print(issue_token(principal, jwt_secret(args.var), ttl_seconds=args.ttl))


if __name__ == "__main__":
    main()
