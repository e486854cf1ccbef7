# The README's two commands: `make start` and `make test`. Each installs what it needs first.
SHELL := /bin/bash
STAMP := node_modules/.install-stamp

.PHONY: install build start test typecheck-tests lint format clean

# `npm install` (not `npm ci`) so an up-to-date tree is left alone: it only adds what is missing.
$(STAMP): package.json package-lock.json packages/*/package.json
	npm install --no-audit --no-fund
	@# npm only warns when an install script does not run; make sure the native modules really built.
	node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()"
	node --input-type=module -e "await import('node-llama-cpp')"
	touch $(STAMP)

install: $(STAMP)

build: install
	npx tsc -b packages/protocol packages/router packages/node packages/mcp-server
	@# The router's production bundle (packages/router/dist/llm-router.js, the llm-router bin).
	node scripts/bundle-router.mjs
	@# Links and marks executable the MCP server's and the router's bins (dist/ did not exist when npm install ran).
	npm rebuild --ignore-scripts @llm-router/mcp-server @llm-router/router >/dev/null
	@# The dashboard SPA: type-checked, then built into packages/router/public (served at /dashboard).
	npx tsc -p packages/dashboard
	npm run build --silent -w @llm-router/dashboard

start: build
	bash scripts/start.sh

test: build typecheck-tests
	bash scripts/test.sh

# Tests, benchmarks and scripts are type-checked too: vitest and tsx only strip their types, so a
# test calling a changed API wrongly would otherwise fail only when it runs (or not at all). The
# dashboard's tests are in its own project above; browser-side test code gets the DOM library.
typecheck-tests: build
	npx tsc -p packages/router/tsconfig.test.json
	npx tsc -p packages/node/tsconfig.test.json
	npx tsc -p packages/mcp-server/tsconfig.test.json
	npx tsc -p tsconfig.test.json
	npx tsc -p tsconfig.test-browser.json

lint: install
	npx biome check .
	npx tsc -b packages/protocol packages/router packages/node packages/mcp-server
	npx tsc -p packages/dashboard
	$(MAKE) --no-print-directory typecheck-tests

format: install
	npx biome check --write .

clean:
	rm -rf packages/*/dist packages/router/public
