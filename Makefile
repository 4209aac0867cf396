# Comeback: a thin wrapper over CMake so that `make`, `make test`, `make demo`, `make bench`
# and `make sanitize` do what they say on a fresh machine.
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
WERROR  ?= ON
BUILD   ?= build
SAN     ?= build-sanitize
FUZZ_SECONDS ?= 10
CMAKE_ARGS ?=
PREFIX  ?= /usr/local
DESTDIR ?=

.PHONY: all build deps test demo bench bench-quick sanitize fuzz debug mpi-test install package \
        clean distclean

all: build

deps:
	@scripts/bootstrap --check >/dev/null 2>&1 || scripts/bootstrap

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCOMEBACK_WERROR=$(WERROR) $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	./$(BUILD)/comeback demo

# The program, its plug-in header, docs, examples, the systemd unit and its sysusers.d entry
# under PREFIX (default /usr/local), staged under DESTDIR when given (docs/run.md).
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# The Debian package (prefix /usr) in $(BUILD): comeback_<version>_<arch>.deb.
package: build
	cd $(BUILD) && cpack -G DEB

bench: build
	scripts/bench $(BUILD)

bench-quick: build
	BENCH_QUICK=1 scripts/bench $(BUILD)

debug: deps
	cmake -S . -B build-debug -DCMAKE_BUILD_TYPE=Debug -DCOMEBACK_WERROR=$(WERROR) $(CMAKE_ARGS)
	cmake --build build-debug -j$(JOBS)

# ASan+UBSan build with clang, the whole test suite under it, then a short run of every fuzzer.
sanitize: deps
	CC=clang cmake -S . -B $(SAN) -DCMAKE_BUILD_TYPE=Sanitize -DCOMEBACK_FUZZ=ON \
	  -DCOMEBACK_WERROR=$(WERROR) $(CMAKE_ARGS)
	cmake --build $(SAN) -j$(JOBS)
	cd $(SAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)
	scripts/run-fuzzers $(SAN) $(FUZZ_SECONDS)

fuzz: sanitize

# The OpenMPI build of the program and the test that mpirun -np 2 gives the single-process report.
mpi-test: deps
	cmake -S . -B build-mpi -DCMAKE_BUILD_TYPE=Release -DCOMEBACK_MPI=ON \
	  -DCOMEBACK_WERROR=$(WERROR) $(CMAKE_ARGS)
	cmake --build build-mpi -j$(JOBS) --target comeback_cli
	cd build-mpi && ctest --output-on-failure -R mpi_

clean:
	rm -rf $(BUILD) $(SAN) build-debug build-mpi

distclean: clean
	rm -rf user_data bench/results/latest.json
