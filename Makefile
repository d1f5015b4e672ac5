# The two commands of the README, plus a few helpers.
SWIFT ?= swift
DEMO  ?= Workbooks/one-vs-seven.sigbook

.PHONY: setup build release demo test bench clean

setup:
	@scripts/setup

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

demo: release
	.build/release/sigbook run $(DEMO) --report
	@echo
	@echo "report:  $(DEMO:.sigbook=.report.html) (and .report.md)"
	@echo "figures: $(DEMO:.sigbook=.figures)/"

test: setup
	$(SWIFT) test

bench: release
	.build/release/sigbook bench

clean:
	rm -rf .build
