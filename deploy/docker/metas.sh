#!/bin/sh
# Entrypoint of the metas image: one image runs every service, the migrations and the seed.
#   metas serve [SERVICE]       run one service (default $METAS_SERVICE) with uvicorn
#   metas migrate [SERVICE...]  alembic upgrade head for each service (default: all five with a database)
#   metas seed                  load the seed plans (planning) and the PRR budget (budget), idempotently
#   metas create-admin NAME --email E   the first administrator (random password printed once)
#   metas healthcheck           exit 0 when /healthz of $METAS_SERVICE answers 200 (used by HEALTHCHECK)
#   metas OTHER ARGS...         exec any other command (e.g. a shell for debugging)
set -eu

METAS_HOME="${METAS_HOME:-/app}"
DB_SERVICES="planning execution scoring budget accounts"

port_of() {
    case "$1" in
        gateway) echo 8000 ;;
        planning) echo 8001 ;;
        execution) echo 8002 ;;
        scoring) echo 8003 ;;
        budget) echo 8004 ;;
        accounts) echo 8005 ;;
        console) echo 8006 ;;
        *) echo "metas: unknown service '$1' (gateway, planning, execution, scoring, budget, accounts, console)" >&2
           return 1 ;;
    esac
}

cmd="${1:-serve}"
[ "$#" -gt 0 ] && shift

case "$cmd" in
    serve)
        svc="${1:-${METAS_SERVICE:-gateway}}"
        port="${PORT:-$(port_of "$svc")}"
        # One process per container: scale with replicas, not workers (Prometheus counters stay per process).
        # The gateway answers even the requests uvicorn's parser rejects with problem+json (gateway/server.py).
        http="auto"
        [ "$svc" = gateway ] && http="gateway.server:HttpProtocol"
        exec uvicorn --factory "${svc}.app:create_app" --http "$http" \
            --host "${HOST:-0.0.0.0}" --port "$port" \
            --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
            --no-server-header --timeout-graceful-shutdown "${GRACEFUL_SHUTDOWN_SECONDS:-20}" \
            --log-level "${LOG_LEVEL:-info}"
        ;;
    migrate)
        [ "$#" -eq 0 ] && set -- $DB_SERVICES
        for svc in "$@"; do
            port_of "$svc" >/dev/null
            echo "metas: migrating $svc"
            (cd "$METAS_HOME" && alembic -c "services/$svc/alembic.ini" upgrade head)
        done
        ;;
    seed)
        # Idempotent: re-running it with the same files changes nothing.
        python -m planning.seed "$METAS_HOME/data/plans"
        python -m budget.seed "$METAS_HOME/data/budget"
        ;;
    create-admin)
        exec python -m accounts.bootstrap "$@"
        ;;
    healthcheck)
        svc="${METAS_SERVICE:-gateway}"
        port="${PORT:-$(port_of "$svc")}"
        exec python -c 'import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=3) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)' "http://127.0.0.1:${port}/healthz"
        ;;
    *)
        exec "$cmd" "$@"
        ;;
esac
