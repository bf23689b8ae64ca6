# h7iap top-level commands. See README.md.
#   make demo       the main job on the virtual board
#   make test       every test (host, sanitizers, firmware on the virtual board)
#   make test-long  long sweeps (power cuts over whole updates, fuzzing)
#   make bench      figures in virtual time (docs/BENCHMARKS.md)
#   make build      configure and build both trees, print firmware sizes
#   make fuzz       libFuzzer harnesses, FUZZ_SECONDS each (docs/ROBUSTNESS.md)

BUILD   ?= build
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
HOST    := $(BUILD)/host
ASAN    := $(BUILD)/asan
ARM     := $(BUILD)/arm
FUZZ    := $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FWDIR   := $(abspath $(ARM))

.PHONY: all deps build build-arm build-host build-asan build-fuzz test test-unit test-long fuzz demo bench clean

all: build

deps:
	@./scripts/deps.sh

# Configure every time (cheap): layers are discovered at configure time.
build-arm: deps
	cmake -S . -B $(ARM) -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake -DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null
	cmake --build $(ARM) -j$(JOBS)

build-host: deps build-arm
	cmake -S . -B $(HOST) -DH7_FW_DIR=$(FWDIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(HOST) -j$(JOBS)

build-asan: deps build-arm
	cmake -S . -B $(ASAN) -DH7_FW_DIR=$(FWDIR) -DH7_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(ASAN) -j$(JOBS)

build: build-arm build-host

# Only the harnesses: the rest of the tree is configured, not built.
build-fuzz: deps
	cmake -S . -B $(FUZZ) -DCMAKE_C_COMPILER=clang -DH7_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(FUZZ) -j$(JOBS) --target fuzz_all

fuzz: build-fuzz
	./scripts/fuzz.sh $(FUZZ) $(FUZZ_SECONDS)

# Every test: the host build runs all of them; the sanitizer build reruns the
# host-only unit tests (label "unit") under ASan+UBSan. Tests that run the
# virtual board against a client's wall-clock timeouts (labels e2e, vboard,
# bench) run one at a time, so two emulated boards never compete for the
# cores of a small CI machine.
BOARD_LABELS := e2e|vboard|bench
test: build-host build-asan
	ctest --test-dir $(HOST) --output-on-failure -j$(JOBS) -LE "long|$(BOARD_LABELS)"
	ctest --test-dir $(HOST) --output-on-failure -j1 -L "$(BOARD_LABELS)" -LE long
	ctest --test-dir $(ASAN) --output-on-failure -j$(JOBS) -L unit -LE long

test-long: build-host
	ctest --test-dir $(HOST) --output-on-failure -j$(JOBS) -L long
	$(MAKE) fuzz FUZZ_SECONDS=300

demo: build-host
	./scripts/demo.sh $(HOST)

bench: build-host
	./bench/run.sh $(HOST)

clean:
	rm -rf $(BUILD)
