"""Benchmark: exporting a 256x256 generator in each format, and running the exported files.

    python bench/export_speed.py --images 8

Saves an untrained 256x256 generator (ngf 64, 54 million parameters; the timings do not depend
on the weights) as H5, exports it with `export_generator` in each format and mode, and for each
file gives its size, the export's seconds, the images per second of its own runtime at batch 1
(TensorFlow, ONNX Runtime, LiteRT) and the largest difference from `translate_images` in the same
mode. Prints a table and writes it as JSON (default bench/export_speed.json).
"""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")  # as export.py does

from pix2pix.backend import start_devices  # noqa: E402  (TensorFlow without its start-up lines)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from pix2pix.inference.export import EXPORT_MODES, EXTENSIONS, FORMATS, export_generator  # noqa: E402
from pix2pix.inference.generator import load_generator, save_generator, translate_images  # noqa: E402
from pix2pix.model.networks import define_generator  # noqa: E402
from pix2pix.storage import atomic_path  # noqa: E402


def runner(fmt, path):
    """A function translating a batch with the exported file, in the format's own runtime."""
    if fmt == "saved_model":
        import tensorflow as tf
        loaded = tf.saved_model.load(path)
        return lambda x: loaded.serve(x).numpy()
    if fmt == "onnx":
        import onnxruntime
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda x: session.run(None, {name: x})[0]
    from ai_edge_litert.interpreter import Interpreter
    interpreter = Interpreter(model_path=path)
    source = interpreter.get_input_details()[0]["index"]
    interpreter.allocate_tensors()  # batch 1, as exported with a free batch size

    def run(x):
        interpreter.set_tensor(source, x)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()
    return run


def size_megabytes(path):
    if os.path.isfile(path):
        return os.path.getsize(path) / 2 ** 20
    return sum(os.path.getsize(os.path.join(folder, f))
               for folder, _, files in os.walk(path) for f in files) / 2 ** 20


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=8,
                        help="images translated one at a time per file (default 8)")
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "export_speed.json"))
    args = parser.parse_args()
    print(f"running on {start_devices()}")  # started muted: CUDA's lines stay out of the table
    images = np.random.default_rng(0).uniform(-1, 1, (args.images, 256, 256, 3))
    images = images.astype(np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        keras.utils.set_random_seed(0)
        model_path = os.path.join(folder, "generator.h5")
        save_generator(define_generator((256, 256, 3)), model_path, {"image_size": 256})
        g_model, _ = load_generator(model_path)
        for mode in EXPORT_MODES:
            expected = translate_images(g_model, images, mode)
            for fmt in FORMATS:
                path = os.path.join(folder, f"{mode}{EXTENSIONS.get(fmt, '')}")
                start, cpu = time.perf_counter(), time.process_time()
                export_generator(g_model, path, fmt, mode)
                seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
                run = runner(fmt, path)
                run(images[:1])  # warm-up
                start = time.perf_counter()
                out = np.concatenate([run(images[i:i + 1]) for i in range(len(images))])
                rows.append({"format": fmt, "mode": mode, "megabytes": size_megabytes(path),
                             "export_seconds": seconds, "export_cpu_seconds": cpu,
                             "images_per_second": len(images) / (time.perf_counter() - start),
                             "largest_difference": float(np.abs(out - expected).max())})
    print(f"{'format':<11} {'mode':<13} {'MB':>5} {'export s':>8} {'cpu s':>6} {'images/s':>8} "
          f"{'max diff':>8}")
    for r in rows:
        print(f"{r['format']:<11} {r['mode']:<13} {r['megabytes']:>5.0f} "
              f"{r['export_seconds']:>8.1f} {r['export_cpu_seconds']:>6.1f} "
              f"{r['images_per_second']:>8.2f} {r['largest_difference']:>8.1e}")
    with atomic_path(args.json) as tmp, open(tmp, "w") as f:
        json.dump({"size": 256, "images": args.images, "rows": rows}, f, indent=2)
    print(f"saved {args.json}")


if __name__ == "__main__":
    main()
