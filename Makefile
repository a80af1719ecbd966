# swiommu: the front door. `make demo` and `make test` install what is missing (as root), build, and run.
PACKAGES := cmake ninja-build libcmocka-dev pkg-config libfdt-dev device-tree-compiler valgrind
BUILD    := build
CMAKE_FLAGS ?=

.PHONY: all deps build demo test ctest swift-test swift-tsan bench install clean board fuzz fuzz-merge

all: build

# Install the missing Debian packages when root; otherwise print the exact command and stop.
deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null || exit 1; \
	  else \
	    echo "swiommu needs packages that are missing. Run:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD)

demo: build
	$(BUILD)/swiommu demo

# Every cmocka suite and C check through ctest (the concurrency suite also under ThreadSanitizer), then every
# Swift test, then the Swift tests that run threads again under ThreadSanitizer.
test: build ctest swift-test swift-tsan

ctest: build
	ctest --test-dir $(BUILD) --output-on-failure -V

swift-test: deps
	swift test --no-parallel

# The Swift tests that start threads, under ThreadSanitizer, in the scratch folder whose TSan library the TSan
# cmocka suites use (CMakeLists.txt); only these tests run (the whole test product under TSan takes minutes).
# tests/tsan.supp names the lock-free patterns TSan cannot model.
TSAN_SWIFT_TESTS := ThreadTests|IOMMUDMACookieTests|concurrentMapsOfDisjointRanges
swift-tsan: deps
	SWIOMMU_TSAN=1 TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp" \
	  swift test --no-parallel --sanitize=thread --scratch-path .build-tsan --filter '$(TSAN_SWIFT_TESTS)'

bench: build
	$(BUILD)/swiommu_bench $(ARGS)

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

# Rebuild the default board built into the library after editing examples/boards/default.dts.
board: deps
	tools/embed-board.sh

# libFuzzer targets (tests/fuzz) against an instrumented copy of the library, FUZZ_SECONDS each; not part of
# make test, which replays their corpus and findings. fuzz-merge keeps what a run found in tests/fuzz/corpus.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= board api iova
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) tools/fuzz $(FUZZ_TARGETS)

fuzz-merge: deps
	FUZZ_MERGE=1 tools/fuzz $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) .build .build-tsan build-fuzz .build-fuzz
