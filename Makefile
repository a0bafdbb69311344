# Chiron — the two commands:
#   make run    install what is missing, build, start `chiron serve` on http://127.0.0.1:8080
#   make test   install what is missing, build, run every test (unit, integration, browser,
#               fuzz-corpus replay, ASan/UBSan and TSan builds of the runtime and parsers)
# Other targets: build, bench, fuzz, format, clean.

BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
ARGS       ?=
CMAKE_FLAGS = -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
ifneq ($(CI),)
CMAKE_FLAGS += -DCHIRON_WERROR=ON
endif

.PHONY: all setup build run test bench fuzz format clean

all: build

setup:
	@scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD)

run: build
	@mkdir -p chiron-data
	@echo "Starting Chiron: open http://127.0.0.1:8080/ (name-server dashboard: http://127.0.0.1:5380/; Ctrl-C stops it)"
	@exec $(BUILD)/apps/chiron serve $(ARGS)

test: build
	@scripts/test.sh $(BUILD)

bench: build
	@scripts/setup.sh bench
	@scripts/bench.sh $(BUILD)

fuzz:
	@scripts/fuzz.sh

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
