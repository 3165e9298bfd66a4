.PHONY: setup run test test-postgres lint format requirements

setup:
	scripts/setup

run:
	scripts/dev

test:
	scripts/test

test-postgres:
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/adminassistant \
	WEB_DATABASE_URL=postgres://postgres@127.0.0.1:5432/adminassistant_web scripts/test

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

requirements:
	.venv/bin/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt pyproject.toml
	.venv/bin/pip-compile -q --strip-extras --extra dev --no-emit-index-url --no-emit-find-links -o requirements-dev.txt pyproject.toml
