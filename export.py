"""Export a trained generator for TensorFlow Serving, ONNX Runtime or LiteRT.

    python export.py models/model_109600.h5 --format saved_model -o exported/maps
    python export.py models/model_109600.h5 --format onnx -o maps.onnx
    python export.py models/model_109600.h5 --format tflite -o maps.tflite --mode eval
    python export.py --pretrained sat2map --format onnx -o sat2map.onnx
"""
import argparse
import os
import time


# Before TensorFlow loads protobuf: tf2onnx rebuilds its graph's messages many times, and with
# the default (upb) protobuf every copy of the weights stays alive until the conversion ends: a
# 256x256 generator peaked at 17 GB of memory. With the pure-Python protobuf it peaks at 4.7 GB
# and converts in half the time; the other formats take about 40% longer with it.
os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")

from pix2pix.cli import (add_debug_flag, add_generator_flags, add_overwrite_flag,  # noqa: E402
                         load_named_generator, name_generator, run)
from pix2pix.inference.export import (EXPORT_MODES, EXTENSIONS, FORMATS,  # noqa: E402
                                      check_export_output, export_generator)


def main(args):
    name_generator(args)
    output = args.output or os.path.splitext(args.model)[0] + EXTENSIONS.get(args.format, "")
    check_export_output(output, args.format, args.overwrite)
    g_model, _ = load_named_generator(args)
    start = time.perf_counter()
    export_generator(g_model, output, args.format, args.mode)
    print(f"exported {args.model} as {args.format} ({args.mode} mode) to {output} "
          f"in {time.perf_counter() - start:.1f} s")


def build_parser():
    parser = argparse.ArgumentParser(
        description="Export a generator saved by train.py for another runtime. The exported "
                    "model takes float32 NHWC images scaled to [-1, 1], any batch size, and gives "
                    "the translations on the same scale.")
    add_generator_flags(parser)
    parser.add_argument("--format", choices=FORMATS, default="saved_model",
                        help="saved_model (a folder, for TensorFlow and TF Serving), onnx (for "
                             "ONNX Runtime) or tflite (for LiteRT); default saved_model")
    parser.add_argument("-o", "--output", help="where to write it (default: beside the model, "
                        "named after it; .onnx and .tflite files need that extension)")
    parser.add_argument("--mode", choices=EXPORT_MODES, default="deterministic",
                        help="deterministic (default): each image normalised with its own "
                             "BatchNorm statistics, no dropout, as translate.py --mode "
                             "deterministic; eval: BatchNorm's moving averages, as --mode eval")
    add_overwrite_flag(parser, "the output")
    add_debug_flag(parser)
    return parser


if __name__ == "__main__":
    run(main, build_parser())
