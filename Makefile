# The two commands of the README, plus a few helpers.
SWIFT ?= swift
# Each target may import only the targets it declares (the README draws the graph): a wrong-way
# import fails the build.
LAYERS = --explicit-target-dependency-import-check error
DEMO  ?= Workbooks/one-vs-seven.sigbook

.PHONY: setup build release demo test bench bench-sigbook bench-peers bench-readme clean

setup:
	@scripts/setup

build: setup
	$(SWIFT) build $(LAYERS)

release: setup
	$(SWIFT) build -c release $(LAYERS)

demo: release
	.build/release/sigbook run $(DEMO) --report
	@echo
	@echo "report:  $(DEMO:.sigbook=.report.html) (and .report.md)"
	@echo "figures: $(DEMO:.sigbook=.figures)/"

test:
	@scripts/setup --tests
	$(SWIFT) test $(LAYERS)

# MNIST's test set from $(SIGBOOK_DATA)/mnist (default: ../shared/data beside the checkout).
SIGBOOK_DATA ?= $(abspath $(CURDIR)/../shared/data)
export SIGBOOK_DATA

# sigbook and every peer (PyTorch, Keras, scikit-learn, openTSNE, umap-learn, numpy, ONNX Runtime,
# Captum), each peer at 1 and 2 threads, in one go: one table, Benchmarks/results/latest.json.
# `make bench ONLY=W6` (or ONLY=W1,W9) runs those rows only. run.py needs no package: each peer
# script runs in its own environment (scripts/bench-peers).
bench: release bench-peers
	/usr/bin/python3 Benchmarks/run.py $(if $(ONLY),--only $(ONLY))

# sigbook's side only.
bench-sigbook: release
	.build/release/sigbook bench

bench-peers:
	@scripts/bench-peers

# The README's performance section, from Benchmarks/results/latest.json.
bench-readme:
	python3 Benchmarks/readme.py

clean:
	rm -rf .build
