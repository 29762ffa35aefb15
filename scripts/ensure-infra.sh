#!/usr/bin/env bash
# Make sure RabbitMQ (with the management plugin), PostgreSQL and Redis are running on loopback.
# Starts what is installed but down; installs what is missing with apt-get when running as root;
# otherwise prints the exact command to run. Idempotent and quick when everything is up.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- 3<&-; }
wait_port() { # port seconds name
  for _ in $(seq 1 "$2"); do port_open "$1" && return 0; sleep 1; done
  echo "ensure-infra: $3 did not open port $1 within $2 s" >&2; return 1
}
as_root() { [ "$(id -u)" = 0 ]; }

missing=()
command -v rabbitmq-server >/dev/null || missing+=(rabbitmq-server)
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  if as_root; then
    echo "ensure-infra: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "ensure-infra: missing ${missing[*]}. Run: sudo apt-get update && sudo apt-get install -y rabbitmq-server postgresql redis-server" >&2
    exit 1
  fi
fi

if ! port_open 5432; then
  echo "ensure-infra: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  wait_port 5432 60 PostgreSQL
fi
if ! port_open 6379; then
  echo "ensure-infra: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_port 6379 30 Redis
fi
if ! port_open 5672; then
  echo "ensure-infra: starting RabbitMQ"
  rabbitmq-server -detached
  wait_port 5672 120 RabbitMQ
fi
if ! port_open 15672; then
  echo "ensure-infra: enabling the RabbitMQ management plugin"
  for _ in $(seq 1 30); do rabbitmq-plugins enable rabbitmq_management >/dev/null 2>&1 && break; sleep 2; done
  wait_port 15672 90 "RabbitMQ management"
fi
# The runner needs one PostgreSQL admin connection. Loopback trust (this image) works as is; a
# stock Debian cluster allows only peer auth for postgres, so as root we add a superuser role for
# root and use the Unix socket. The working DSN is remembered in the state dir.
state="${NESTEGG_STATE_DIR:-$(cd "$(dirname "$0")/.." && pwd)/.nestegg}"
mkdir -p "$state" && chmod 700 "$state"
tcp_dsn="postgresql://postgres@127.0.0.1:5432/postgres"
sock_dsn="postgresql:///postgres?host=/var/run/postgresql"
if [ -n "${NESTEGG_PG_ADMIN_DSN:-}" ]; then
  dsn="$NESTEGG_PG_ADMIN_DSN"
elif psql "$tcp_dsn" -w -qtAc 'select 1' >/dev/null 2>&1; then
  dsn="$tcp_dsn"
else
  if as_root; then
    su postgres -c "psql -qtAc \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='root') THEN CREATE ROLE root SUPERUSER LOGIN; END IF; END \\\$\\\$;\"" >/dev/null 2>&1 || true
  fi
  dsn="$sock_dsn"
fi
if ! psql "$dsn" -w -qtAc 'select 1' >/dev/null 2>&1; then
  echo "ensure-infra: cannot connect to PostgreSQL as an admin; set NESTEGG_PG_ADMIN_DSN" >&2
  exit 1
fi
printf '%s\n' "$dsn" > "$state/pg_admin_dsn"
echo "ensure-infra: RabbitMQ, PostgreSQL and Redis are up"
