# The set-up commands of the README, `make demo` and `make test`, and `make test-fast`, the quick
# loop while working.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := models/demo

# `make demo GPU=1` (or `make test GPU=1`) installs TensorFlow with CUDA (requirements-gpu.txt),
# recorded by its own stamp, so that switching between the two installs again.
GPU_INSTALL := $(filter 1,$(GPU))
REQUIREMENTS := $(if $(GPU_INSTALL),requirements-gpu.txt,requirements.txt)
INSTALLED := $(VENV)/installed$(if $(GPU_INSTALL),-gpu)

.PHONY: demo test test-fast lint-imports

# Create the virtual environment and install the pinned requirements (again when they change).
$(INSTALLED): $(REQUIREMENTS) requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r $(REQUIREMENTS) -r requirements-dev.txt
	rm -f $(VENV)/installed $(VENV)/installed-gpu
	touch $@

# The whole workflow, offline, on the built-in synthetic aerial-to-map dataset at 64x64:
# 300 training pairs x (4 epochs + 4 of falling rate) = 2,400 steps, so the last model is
# model_002400.h5. Widths 32 (not the paper's 64) train 3.6 times faster at this size and learn
# the task well within the 5 minutes (bench/README.md#the-demos-numbers).
demo: $(INSTALLED)
	$(BIN)/python prepare_dataset.py --synthetic 300 --size 64 -o data/synthetic_64.npz --overwrite
	$(BIN)/python prepare_dataset.py --synthetic 100 --size 64 --seed 1 -o data/synthetic_val_64.npz --overwrite
	$(BIN)/python plot_samples.py data/synthetic_64.npz -n 4 -o $(DEMO)/samples.png --seed 0 --overwrite
	$(BIN)/python train.py data/synthetic_64.npz --ngf 32 --ndf 32 --epochs 4 --decay-epochs 4 --save-every 4 --seed 0 --out $(DEMO) --overwrite
	$(BIN)/python translate.py $(DEMO)/model_002400.h5 --dataset data/synthetic_val_64.npz --index 0 -o $(DEMO)/translation.png --overwrite
	$(BIN)/python evaluate.py $(DEMO)/model_002400.h5 data/synthetic_val_64.npz
	@echo "Demo done: models and training plots in $(DEMO)/ (model_002400.h5, plot_002400.png),"
	@echo "dataset samples in $(DEMO)/samples.png, a held-out translation in $(DEMO)/translation.png"

# The package's layers (.importlinter), checked before either set of tests.
lint-imports: $(INSTALLED)
	$(BIN)/lint-imports

# Every test, two at a time (pytest-xdist: two processes, each taking the next test as it
# finishes one, so the long ones do not queue behind each other).
PYTEST := $(BIN)/python -m pytest -q -n 2 --dist worksteal
test: lint-imports
	$(PYTEST) tests

# The fast loop (under 2 minutes on 2 cores): every test but those marked slow (pytest.ini): the
# ones that learn, train, resume, interrupt, distribute, export, start new processes or a browser.
test-fast: lint-imports
	$(PYTEST) -m "not slow" tests
