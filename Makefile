# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SITE ?= demo

.PHONY: run test test-quick bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@test -f $(SITE)/rectify.yaml || $(BIN)/rectify init $(SITE) --demo
	@echo "演示站点：$(SITE)/（rectify.yaml、org.yaml、calendar.yaml、rules/、workflows/、templates/）"
	@echo "提醒和督办邮件写入 $(SITE)/mail/*.eml；另开终端试试：$(BIN)/rectify --site $(SITE) status"
	@echo "或：$(BIN)/rectify --site $(SITE) calendar check；$(BIN)/rectify --site $(SITE) export 台账.xlsx；$(BIN)/rectify --site $(SITE) import $(SITE)/示例-任务清单.xlsx --dry-run"
	@echo "按 Ctrl-C 停止"
	$(BIN)/rectify --site $(SITE) daemon

test: $(STAMP)
	$(BIN)/pytest -q -n 2

# The edit loop: SQLite only, no real processes, faults or fuzzing, on both cores.
test-quick: $(STAMP)
	$(BIN)/pytest -q -n 2 -m "not slow and not postgres"

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench

# engine/ is pure (ruff TID251 and DTZ, tools/purity.py); functions stay short (C90,
# tools/codeshape.py).
lint: $(STAMP)
	$(BIN)/ruff check engine adapters tests bench tools
	$(BIN)/mypy engine adapters
	$(BIN)/python tools/purity.py
	$(BIN)/python tools/codeshape.py

clean:
	rm -rf $(VENV) $(SITE) .pytest_cache .hypothesis
