# The two commands of the README, and a few more. Each sets up what it needs first.
VENV := .venv
SNAKEMAKE := $(VENV)/bin/snakemake

.PHONY: setup setup-slurm report test test-fast bench breakdown clean

setup:
	@bash tools/setup.sh

setup-slurm:  ## setup plus the SLURM executor plugin, on a cluster's submit host (docs/cluster.md)
	@bash tools/setup.sh --slurm

report: setup  ## build report.pdf from config.yaml (all models, full MNIST)
	$(SNAKEMAKE) --cores all

test: setup  ## all tests, including the quick end-to-end run and the SLURM cluster test
	$(VENV)/bin/pytest -v

test-fast: setup  ## unit tests only (no end-to-end runs)
	$(VENV)/bin/pytest -v -m "not e2e and not slurm"

bench: setup  ## training-engine benchmark -> benchmarks/results.csv and results.md
	$(VENV)/bin/python benchmarks/bench.py

breakdown: setup  ## run a study in a fresh folder; where its time went -> benchmarks/breakdown-<name>.md
	bash benchmarks/breakdown.sh $(STUDY)

clean:  ## remove everything the workflow computed (keeps the downloaded MNIST in data/)
	rm -rf results logs report.pdf report.html .snakemake
