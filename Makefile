# The README's two commands: `make demo` and `make test`. Everything else is
# CMake + Ninja underneath; this file only wires the steps together.
BUILD ?= build
# The test suite runs against an AddressSanitizer + UBSan build with warnings
# as errors (what CI runs is exactly `make test`), so every
# unit and system test doubles as a memory-safety check.
TEST_BUILD ?= build-test
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)

.PHONY: all deps build test-build demo test unit system fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

# The demo needs only the binary, not the test programs.
demo: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS) ferry
	@scripts/demo.sh $(BUILD)/ferry

$(TEST_BUILD)/build.ninja:
	cmake -S . -B $(TEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_SANITIZE=ON -DFERRY_WERROR=ON $(CMAKE_FLAGS)

test-build: deps $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD) -j $(JOBS)

# Unit tests (GoogleTest) and system tests (bats, one ctest test per file),
# all under ASan + UBSan.
test: test-build
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS)

unit: test-build
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS) -E '^system\.'

system: test-build
	cd $(TEST_BUILD) && ctest --output-on-failure -R '^system\.'

# libFuzzer targets (clang); run each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_FUZZ=ON
	ninja -C build-fuzz -j $(JOBS)
	scripts/run-fuzzers.sh build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) build-fuzz

# ferry vs skopeo benchmarks (bench/README.md); not part of `make test` or CI.
# Pass options through BENCH_ARGS, e.g. make bench BENCH_ARGS='--runs 3 --scenario r2r'.
.PHONY: bench
bench: build
	bench/run.sh --ferry $(BUILD)/ferry $(BENCH_ARGS)
