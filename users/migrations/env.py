from alembic import context

from common.migrate import run_env

run_env(context, "users")
