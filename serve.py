"""Translate images in the browser: a local web page for a generator saved by train.py.

    python serve.py models/model_109600.h5             # then open http://127.0.0.1:8000/
    python serve.py models/model_109600.h5 --port 8080 --mode deterministic
    python serve.py --pretrained facades_label2photo     # one of the authors' generators

Pick or drop an image on the page: it shows the source, as the model sees it, beside its
translation, with a link to download the translation. Ctrl-C stops the server.
"""
import argparse
import os

from pix2pix.cli import (add_debug_flag, add_generator_flags, add_mode_flags, load_named_generator,
                         name_generator, run)
from pix2pix.errors import Pix2PixError
from pix2pix.inference.server import DEFAULT_MAX_UPLOAD, make_server


def serve(args):
    """Load the generator once and serve it until Ctrl-C."""
    g_model, _ = load_named_generator(args)
    server = make_server(g_model, args.host, args.port, mode=args.mode,
                         name=os.path.basename(args.model),
                         max_upload=round(args.max_upload * 2 ** 20))
    with server:  # closes the listening socket however serving ends
        print(f"serving {args.model} at {server.url} (Ctrl-C stops)", flush=True)
        server.serve_forever()


def main(args):
    if args.max_upload <= 0:
        raise Pix2PixError(f"--max-upload {args.max_upload}: give a size above 0 MB")
    if not 0 <= args.port <= 65535:
        raise Pix2PixError(f"--port {args.port}: give a port from 0 to 65535")
    name_generator(args)
    serve(args)


def build_parser():
    parser = argparse.ArgumentParser(
        description="Serve a web page that translates images with a generator saved by "
                    "train.py: pick or drop an image, see its translation, download it. As in "
                    "translate.py, any image is converted to RGB and resized to the model's size.")
    add_generator_flags(parser)
    parser.add_argument("--port", type=int, default=8000,
                        help="port to listen on (default 8000; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only; "
                             "0.0.0.0 lets anyone who can reach it use it)")
    parser.add_argument("--max-upload", type=float, default=DEFAULT_MAX_UPLOAD / 2 ** 20,
                        metavar="MB", help="largest image file accepted, in MB of 2^20 bytes "
                                           "(default %(default)g)")
    add_mode_flags(parser)
    add_debug_flag(parser)
    return parser


if __name__ == "__main__":
    run(main, build_parser())
