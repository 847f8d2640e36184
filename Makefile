# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SITE ?= demo
WEB_PORT ?= 8080
# Python keeps compiled modules (and pytest its rewritten test modules) in __pycache__,
# even where the environment turns that off: without them every command, test process
# and daemon compiles the whole program again (about 10 s of each test run).
export PYTHONDONTWRITEBYTECODE =

.PHONY: run test test-quick bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The daemon and the local robot sink (in the background) and the web workbench (in the
# foreground) on the demo site; Ctrl-C stops them all.
run: $(STAMP)
	@test -f $(SITE)/rectify.yaml || $(BIN)/rectify init $(SITE) --demo
	@$(BIN)/rectify --site $(SITE) db upgrade >/dev/null
	@grep -q '^web:' $(SITE)/rectify.yaml || printf '\nweb:\n  base_url: "http://127.0.0.1:$(WEB_PORT)"\n' >> $(SITE)/rectify.yaml
	@echo "演示站点：$(SITE)/（rectify.yaml、org.yaml、calendar.yaml、rules/、workflows/、templates/）"
	@echo "提醒和督办邮件在办公时间（工作日 08:00–18:00）写入 $(SITE)/mail/*.eml（每个事项附登录链接）；办公时间外先排队，另开终端运行 $(BIN)/rectify --site $(SITE) status 可看到何时发出"
	@echo "网页工作台：http://127.0.0.1:$(WEB_PORT)  （以下登录链接各只能使用一次，$(BIN)/rectify --site $(SITE) web link 姓名 可再生成）"
	@echo "  综治办主任 周安宁：$$($(BIN)/rectify --site $(SITE) web --port $(WEB_PORT) link 周安宁)"
	@echo "  保卫处处长 赵卫东：$$($(BIN)/rectify --site $(SITE) web --port $(WEB_PORT) link 赵卫东)"
	@echo "  保卫处消防专干（整改责任人）马建军：$$($(BIN)/rectify --site $(SITE) web --port $(WEB_PORT) link 马建军)"
	@echo "保卫处钉钉群的机器人消息写入 $(SITE)/robots/*.md（本机模拟的群机器人服务：rectify robot-sink）"
	@echo "按 Ctrl-C 停止"
	@$(BIN)/rectify --site $(SITE) robot-sink & sink=$$!; \
	  $(BIN)/rectify --site $(SITE) daemon & daemon=$$!; \
	  trap 'kill $$daemon $$sink 2>/dev/null; wait $$daemon $$sink' EXIT INT TERM; \
	  $(BIN)/rectify --site $(SITE) web --port $(WEB_PORT)

test: $(STAMP)
	$(BIN)/pytest -q -n 2

# The edit loop: SQLite only, no real processes, faults or fuzzing, a fifth of the
# property tests' examples (tests/examples.py), on both cores.
test-quick: $(STAMP)
	RECTIFY_TEST_QUICK=1 $(BIN)/pytest -q -n 2 -m "not slow and not postgres"

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
