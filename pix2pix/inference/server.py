"""A local web page that translates images with a generator (`serve.py` runs it).

GET / gives the page (static/index.html). POST /translate?name=FILE takes the raw bytes of one
image file as its body and answers JSON: the source as the model saw it and its translation, both
PNG data URLs, or {"error": message} with a 4xx status (5xx for a failure of ours). The standard
library is enough for one page and one endpoint; the body is the file itself, not a multipart
form, so there is nothing to parse.
"""
import base64
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import io
import json
import os
import threading
import time
from urllib.parse import parse_qs, urlsplit

from PIL import Image
import numpy as np

from pix2pix.data.images import open_rgb, resize_array
from pix2pix.errors import Pix2PixError, describe
from pix2pix.inference.generator import translate_pixels


PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static", "index.html")
DEFAULT_MAX_UPLOAD = 20 * 2 ** 20  # bytes
READ_TIMEOUT = 60  # seconds a client may take over its request before its thread gives up


class UploadError(Exception):
    """A request we refuse: the message is shown on the page, the status goes back with it."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Upload(io.BytesIO):
    """The uploaded bytes under the name of the file the person picked: open_rgb's messages name
    their file with str(), and PIL's name a file object with repr(), so both say that name."""

    def __init__(self, data, name):
        super().__init__(data)
        self.label = name

    def __str__(self):
        return self.label

    def __repr__(self):
        return repr(self.label)


def png_data_url(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class Translator:
    """The generator, translating one upload at a time as translate.py translates a file."""

    def __init__(self, g_model, mode):
        self.g_model, self.mode = g_model, mode
        self.height, self.width = g_model.input_shape[1:3]
        # One at a time: one decoded image may take hundreds of MB.
        self.lock = threading.Lock()

    def __call__(self, data, name):
        """Uploaded bytes -> (source, translation), uint8 arrays at the model's size."""
        if not data:
            raise UploadError(400, f"{name}: the file is empty")
        with self.lock:
            # The guards of every script: decompression-bomb limit, any mode converted to RGB.
            source = resize_array(np.asarray(open_rgb(Upload(data, name))), self.height,
                                  self.width)
            return source, translate_pixels(self.g_model, source[np.newaxis], self.mode)[0]


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.0, BaseHTTPRequestHandler's default: one request a connection, so the body of a
    # refused upload, left unread, is never taken for a next request.
    timeout = READ_TIMEOUT  # a client that stalls mid-request must not hold a thread forever

    def do_GET(self):
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            self.send(200, self.server.page, "text/html; charset=utf-8")
        else:
            self.send_json(404, {"error": f"{path}: no such page"})

    def do_POST(self):
        url = urlsplit(self.path)
        # Only the name's last part, and not too much of it: it is only for messages.
        name = os.path.basename(parse_qs(url.query).get("name", ["upload"])[0])[-100:] or "upload"
        try:
            if url.path != "/translate":
                raise UploadError(404, f"{url.path}: no such page")
            data = self.read_body(name)
            started = time.perf_counter()
            source, translation = self.server.translator(data, name)
        except UploadError as e:
            return self.send_json(e.status, {"error": str(e)})
        except Pix2PixError as e:  # not an image, damaged, a decompression bomb
            return self.send_json(400, {"error": describe(e)})
        except Exception as e:  # noqa: BLE001  a bug must not stop the server
            self.log_error("translating %s failed: %r", name, e)
            return self.send_json(500, {"error": f"{name}: {describe(e)}"})
        translator = self.server.translator
        self.send_json(200, {"name": name, "height": translator.height,
                             "width": translator.width, "mode": translator.mode,
                             "seconds": round(time.perf_counter() - started, 3),
                             "source": png_data_url(source),
                             "translation": png_data_url(translation)})

    def read_body(self, name):
        """The request's body, refused by its Content-Length before any of it is read."""
        length = self.headers.get("Content-Length")
        if length is None:
            raise UploadError(411, f"{name}: the upload gave no Content-Length")
        if not length.isdigit():
            raise UploadError(400, f"{name}: bad Content-Length {length[:20]!r}")
        limit = self.server.max_upload
        if int(length) > limit:
            raise UploadError(413, f"{name}: {megabytes(int(length))} is over the upload limit "
                                   f"of {megabytes(limit)} (serve.py --max-upload)")
        data = self.rfile.read(int(length))
        if len(data) < int(length):
            raise UploadError(400, f"{name}: the upload was cut short")
        return data

    def send_json(self, status, answer):
        self.send(status, json.dumps(answer).encode(), "application/json")

    def send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


def megabytes(n):
    return f"{round(n / 2 ** 20, 2):g} MB"


class TranslationServer(ThreadingHTTPServer):
    daemon_threads = True  # Ctrl-C need not wait for a translation in progress

    def __init__(self, address, translator, page, max_upload):
        super().__init__(address, Handler)
        self.translator, self.page, self.max_upload = translator, page, max_upload
        host, port = self.server_address[:2]
        self.url = f"http://{host}:{port}/"


def make_server(g_model, host="127.0.0.1", port=8000, mode="paper", name="model",
                max_upload=DEFAULT_MAX_UPLOAD):
    """A server for a loaded generator, listening (port 0: any free port, see `.url`) but not yet
    serving: call `serve_forever()`. `name` is how the page calls the model."""
    translator = Translator(g_model, mode)
    # One blank image first: the first person then does not wait for TensorFlow's tracing, and a
    # model that cannot run fails here, at start, rather than on the page.
    translate_pixels(g_model, np.zeros((1, translator.height, translator.width, 3), np.uint8),
                     mode)
    config = {"name": name, "height": translator.height, "width": translator.width,
              "mode": mode, "max_upload": max_upload}
    with open(PAGE, encoding="utf-8") as f:  # "<" escaped: the JSON sits inside a <script>
        page = f.read().replace("{{CONFIG}}", json.dumps(config).replace("<", "\\u003c"))
    try:
        return TranslationServer((host, port), translator, page.encode(), max_upload)
    except OSError as e:
        raise Pix2PixError(f"{host}:{port}: cannot listen there ({e.strerror or e})") from None
