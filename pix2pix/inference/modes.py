"""The modes a trained generator runs in, named once for the code and the scripts' --help.

The paper translates as it trains: dropout on, and BatchNorm with each image's own statistics
(its section 3.1; the authors' test.py). After batch-1 training BatchNorm's moving averages
describe no single image well, so Keras's usual inference mode is an option, not the default.
"""

MODES = {
    "paper": "dropout and each image's BatchNorm statistics, as the paper (the default)",
    "deterministic": "each image's BatchNorm statistics without dropout: repeatable",
    "eval": "BatchNorm's moving averages and no dropout (Keras's inference mode)",
}
EXPORT_MODES = ("deterministic", "eval")  # an exported model is a function: no dropout
