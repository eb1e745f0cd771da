# quartier: the two commands of the README's quick start.
#   make demo   installs missing system packages, builds, solves the demo scenario
#   make test   the whole test suite
#   make stress the property tests again and again on new random cities
#   make qgis-plugin   the QGIS plugin as a zip for "Install from ZIP"
# Everything builds in release mode once (HiGHS and PROJ are C++ and take minutes).

CARGO   ?= cargo
QUARTIER = target/release/quartier
# cmake + libclang-dev: HiGHS (good_lp); sqlite3 + libsqlite3-dev: the bundled PROJ 9.6.
APT_PACKAGES = build-essential cmake pkg-config libclang-dev clang sqlite3 libsqlite3-dev
# The tests open the output in real QGIS (headless) and the report in Chromium.
TEST_PACKAGES = python3-qgis qgis-providers chromium

PLUGIN_ZIP = target/quartier_processing.zip

.PHONY: all deps test-deps apt build demo test stress lint bench clean qgis-plugin qgis-screenshots

all: build

deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(APT_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(TEST_PACKAGES)"

apt:
	@missing=""; \
	for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(CARGO) build --release --locked

demo: build
	$(QUARTIER) check scenarios/muenster.toml
	$(QUARTIER) solve scenarios/muenster.toml

# The property tests draw their random cities from a fixed seed here, so that a run of
# `make test` on a fresh machine tries the same cities as the one before it; `make stress`
# draws new ones (a failure it finds is saved in tests/*.proptest-regressions and runs
# first in every later `make test`).
PROPTEST_RNG_SEED ?= 20261207
STRESS_ROUNDS ?= 5

test: build test-deps
	QUARTIER_REQUIRE_VIEWERS=1 PROPTEST_RNG_SEED=$(PROPTEST_RNG_SEED) $(CARGO) test --release --locked

stress: build
	for i in $$(seq $(STRESS_ROUNDS)); do \
	  env -u PROPTEST_RNG_SEED $(CARGO) test --release --locked --test properties --test levels_and_stages \
	    --test nested_cost --test fuzz || exit 1; \
	done

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets --locked -- -D warnings

# The plugin is Python; the zip holds the folder quartier_processing/ at its root and the
# crate's version in metadata.txt.
qgis-plugin:
	python3 qgis/build_zip.py $(PLUGIN_ZIP)

# Renders the plugin's form and a result map in headless QGIS into docs/.
qgis-screenshots: build test-deps
	QUARTIER_SCREENSHOTS=$(CURDIR)/docs QUARTIER_REQUIRE_VIEWERS=1 $(CARGO) test --release --locked \
	  --test qgis_plugin -- plan_places_on_the_demo_city the_form_renders_and_runs

# The before/after picture of docs/spread-and-access.md, docs/spread-before-after.png:
# solves muenster.toml (file order) and spread.toml (stage spread) with the built binary
# into target/pictures/ and renders both plans side by side in headless QGIS. Builds
# nothing: run make build first; needs python3-qgis (make test-deps).
.PHONY: docs-pictures
docs-pictures:
	@test -x $(QUARTIER) || { echo "$(QUARTIER) is missing: run make build first"; exit 1; }
	$(QUARTIER) solve scenarios/muenster.toml --out target/pictures/muenster --quiet
	$(QUARTIER) solve scenarios/spread.toml --out target/pictures/spread --quiet
	QT_QPA_PLATFORM=offscreen /usr/bin/python3 docs/render_plans.py \
	  target/pictures/muenster target/pictures/spread docs/spread-before-after.png

bench: build
	$(CARGO) bench --locked

clean:
	$(CARGO) clean
