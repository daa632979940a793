"""Benchmark: the U-Net decoder's transposed convolutions, Keras's layer against UpConvolution.

    python bench/up_convolution.py --precision float32 bfloat16

For each decoder layer of the 256x256 U-Net (input 1x1x512 up to 128x128x128), batch 1, it
times Keras's Conv2DTranspose and this project's UpConvolution (pix2pix/model/layers.py: a matrix
product and an overlap-add on inputs of up to SMALL_INPUT pixels, Keras's call beyond), the
forward pass alone (translation) and forward plus both gradients (training), one after the
other, --rounds times. Writes the table as JSON (bench/up_convolution.json).
"""
import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from pix2pix.backend import start_devices  # noqa: E402  (TensorFlow without its start-up lines)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from pix2pix.model.layers import SMALL_INPUT, UpConvolution  # noqa: E402
from pix2pix.model.networks import set_precision  # noqa: E402
from pix2pix.storage import atomic_path  # noqa: E402

# (input size, input channels, filters) of the 256x256 U-Net's decoder, innermost first.
LAYERS = [(1, 512, 512), (2, 1024, 512), (4, 1024, 512), (8, 1024, 512), (16, 1024, 256),
          (32, 512, 128), (64, 256, 64), (128, 128, 3)]


def milliseconds(function, calls):
    function()  # the trace, and oneDNN's first call
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1000


def timings(layer, inputs, calls):
    """(forward ms, forward and both gradients ms) of `layer` on `inputs`, each traced once."""
    forward = tf.function(lambda: layer(inputs))

    @tf.function
    def backward():
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_sum(tf.cast(layer(inputs), tf.float32))
        return tape.gradient(loss, [inputs, *layer.trainable_variables])

    return (milliseconds(lambda: forward().numpy(), calls),
            milliseconds(lambda: [g.numpy() for g in backward()], calls))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10, help="timed calls each (default 10)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="times the measurements are repeated (default 2)")
    parser.add_argument("--precision", nargs="+", default=["float32"],
                        choices=["float32", "bfloat16"])
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "up_convolution.json"))
    args = parser.parse_args()
    # Each layer has its own two functions, traced once each, which TensorFlow's retracing
    # warning counts as one function retraced.
    tf.get_logger().setLevel("ERROR")
    print(f"running on {start_devices()}")  # started muted: CUDA's lines stay out of the table
    rows = []
    for _ in range(args.rounds):
        for precision in args.precision:
            for size, channels, filters in LAYERS:
                inputs = tf.constant(np.random.default_rng(0).standard_normal(
                    (1, size, size, channels)), tf.float32)
                set_precision(precision)
                layers = {"keras": keras.layers.Conv2DTranspose(filters, 4, strides=2,
                                                                padding="same", use_bias=False),
                          "ours": UpConvolution(filters, use_bias=False)}
                set_precision("float32")
                row = {"precision": precision, "size": size, "channels": channels,
                       "filters": filters, "product": size * size <= SMALL_INPUT}
                for name, layer in layers.items():
                    row[f"{name}_forward_ms"], row[f"{name}_training_ms"] = timings(
                        layer, inputs, args.calls)
                rows.append(row)
    print(f"{'precision':<9} {'input':>12} {'filters':>7} {'path':<7} "
          f"{'forward: Keras ms':>17} {'ours ms':>7} {'training: Keras ms':>18} {'ours ms':>7}")
    for r in rows:
        shape = f"{r['size']}x{r['size']}x{r['channels']}"
        print(f"{r['precision']:<9} {shape:>12} {r['filters']:>7} "
              f"{'product' if r['product'] else 'Keras':<7} {r['keras_forward_ms']:>17.2f} "
              f"{r['ours_forward_ms']:>7.2f} {r['keras_training_ms']:>18.2f} "
              f"{r['ours_training_ms']:>7.2f}")
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump({"calls": args.calls, "rows": rows}, f, indent=2)
    print(f"saved {args.json}")


if __name__ == "__main__":
    main()
