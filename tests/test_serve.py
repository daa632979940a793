"""serve.py: the page in a real headless Chromium, and the server's answers to bad uploads.

The browser test needs Debian's Chromium at /usr/bin/chromium (`apt-get install chromium`);
Playwright drives it and never downloads a browser of its own. Where it is missing, that test
skips. PIX2PIX_SCREENSHOT=path saves a screenshot of the page showing a translation, and
PIX2PIX_SERVE_MODEL=path.h5 serves that generator instead of a small random one (docs/serve.png
was taken with a generator trained on the synthetic set).
"""
import base64
import http.client
import io
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from urllib.parse import quote, urlsplit

import keras
import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, run_script
from pix2pix.data.images import open_rgb, resize_array
from pix2pix.inference.generator import load_generator, save_generator, translate_pixels
from pix2pix.model.networks import define_generator
from pix2pix.inference.server import make_server
from pix2pix.data.synthetic import synthetic_dataset

CHROMIUM = "/usr/bin/chromium"
# No sandbox (we run as root in a container), no GPU, and nothing that reaches out to the network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MAX_UPLOAD = 2 ** 20


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    if os.environ.get("PIX2PIX_SERVE_MODEL"):
        return os.environ["PIX2PIX_SERVE_MODEL"]
    path = tmp_path_factory.mktemp("serve") / "tiny.h5"
    keras.utils.set_random_seed(0)
    save_generator(define_generator((32, 32, 3)), str(path), {"image_size": 32})
    return str(path)


@pytest.fixture(scope="module")
def server(model_path):
    """The server in a thread of this process, in the repeatable mode so results can be compared."""
    g_model, _ = load_generator(model_path)
    server = make_server(g_model, "127.0.0.1", 0, mode="deterministic",
                         name=os.path.basename(model_path), max_upload=MAX_UPLOAD)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A 64x64 aerial-style image of the synthetic set (not a size the model takes)."""
    path = tmp_path_factory.mktemp("photos") / "town.png"
    Image.fromarray(synthetic_dataset(1, 64, seed=7)[0][0]).save(path)
    return str(path)


def post(url, body, name="upload.png"):
    """POST body to /translate as the page does; returns (status, JSON answer)."""
    request = urllib.request.Request(f"{url}translate?name={quote(name)}", data=body,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def post_headers_only(url, length):
    """Send a POST that announces `length` bytes and never sends them: a server that waited for
    the body would not answer."""
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(f"POST /translate?name=huge.tif HTTP/1.1\r\nHost: {address.netloc}\r\n"
                     f"Content-Length: {length}\r\n\r\n".encode())
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())


def wait_for_line(stream, text, timeout):
    """The first line of stream holding text, or "" if it ends first (read in a thread, so that
    the wait can time out)."""
    lines = queue.Queue()

    def read():
        for line in stream:
            lines.put(line)
        lines.put("")
    threading.Thread(target=read, daemon=True).start()
    while True:
        line = lines.get(timeout=timeout)
        if not line or text in line:
            return line


def decode(data_url):
    assert data_url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))))


def page_answers(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status == 200 and b"pix2pix" in response.read()


@pytest.mark.slow
def test_page_translates_an_image_and_shows_errors(server, model_path, photo):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium): no browser test")
    sync_api = pytest.importorskip("playwright.sync_api")
    g_model, _ = load_generator(model_path)  # a copy of the server's, to check its answers
    size = g_model.input_shape[1]
    source = resize_array(np.asarray(open_rgb(photo)), size, size)
    expected = translate_pixels(g_model, source[np.newaxis], "deterministic")[0]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 640, "height": 520})
            page.goto(server.url)
            sync_api.expect(page.locator("#model")).to_contain_text(f"{size}x{size} images")

            page.set_input_files("#file", photo)
            page.wait_for_function("document.getElementById('translation').naturalWidth > 0",
                                   timeout=60_000)
            assert page.locator("#result").is_visible()
            assert page.eval_on_selector(
                "#translation", "img => [img.naturalWidth, img.naturalHeight]") == [size, size]
            assert page.get_attribute("#download", "download") == "town_translated.png"
            assert np.array_equal(decode(page.get_attribute("#download", "href")), expected)
            assert np.array_equal(decode(page.get_attribute("#source", "src")), source)
            sync_api.expect(page.locator("#status")).to_contain_text("town.png: translated in")
            if os.environ.get("PIX2PIX_SCREENSHOT"):
                page.wait_for_function("document.getElementById('source').complete")
                page.screenshot(path=os.environ["PIX2PIX_SCREENSHOT"], full_page=True)

            page.set_input_files("#file", files=[{"name": "notes.txt", "mimeType": "text/plain",
                                                  "buffer": b"a shopping list, not an image"}])
            sync_api.expect(page.locator("#error")).to_contain_text(
                "notes.txt: not a readable image", timeout=30_000)
            assert page.locator("#result").is_hidden()

            # Too large: the page says so without sending it (the server would refuse it too).
            page.set_input_files("#file", files=[{"name": "huge.png", "mimeType": "image/png",
                                                  "buffer": b"\0" * (MAX_UPLOAD + 1)}])
            sync_api.expect(page.locator("#error")).to_contain_text(
                "huge.png: 1 MB is over the upload limit of 1 MB")

            assert page_answers(server.url)  # still up, and the page still translates: a drop
            with open(photo, "rb") as f:
                encoded = base64.b64encode(f.read()).decode()
            dropped = page.evaluate_handle("""([encoded, name]) => {
                const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
                const transfer = new DataTransfer();
                transfer.items.add(new File([bytes], name, {type: "image/png"}));
                return transfer;
            }""", [encoded, "dropped.png"])
            page.dispatch_event("#drop", "drop", {"dataTransfer": dropped})
            sync_api.expect(page.locator("#status")).to_contain_text("dropped.png: translated",
                                                                     timeout=60_000)
            sync_api.expect(page.locator("#error")).to_be_empty()
            assert np.array_equal(decode(page.get_attribute("#download", "href")), expected)
        finally:
            browser.close()


def test_server_refuses_bad_uploads_and_stays_up(server, photo):
    status, answer = post_headers_only(server.url, 2 ** 30)
    assert status == 413 and "huge.tif: 1024 MB is over the upload limit of 1 MB" in answer["error"]
    with open(photo, "rb") as f:
        good = f.read()
    cases = [(b"", "empty.png", 400, "empty.png: the file is empty"),
             (b"GIF89a, but no more", "bad.gif", 400, "bad.gif: not a readable image"),
             (good[:len(good) // 2], "cut.png", 400, "cut.png: not a readable image")]
    for body, name, code, message in cases:
        status, answer = post(server.url, body, name)
        assert (status, message) == (code, answer["error"][:len(message)]), answer
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    connection.putrequest("POST", "/translate")  # no Content-Length, no body
    connection.endheaders()
    assert connection.getresponse().status == 411
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{server.url}nowhere", timeout=30)
    assert e.value.code == 404
    assert page_answers(server.url)
    status, answer = post(server.url, good, "town.png")
    assert status == 200 and answer["height"] == answer["width"]
    assert decode(answer["translation"]).shape == (answer["height"], answer["width"], 3)


@pytest.mark.slow
def test_serve_script_refuses_oversized_requests_and_stops_on_ctrl_c(model_path, tmp_path):
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "w") as log:
        process = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "serve.py"), model_path, "--port", "0",
             "--max-upload", "0.5", "--mode", "deterministic"],
            stdout=subprocess.PIPE, stderr=log, text=True,
            # Ctrl-C must reach it even where this test runs with SIGINT ignored (in the
            # background), which Python would pass on to the server.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = wait_for_line(process.stdout, "serving", 300)
        assert line, stderr.read_text()
        url = line.split(" at ")[1].split()[0]
        status, answer = post_headers_only(url, 600 * 1024)
        assert status == 413 and "0.59 MB is over the upload limit of 0.5 MB" in answer["error"]
        assert page_answers(url)
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "serve.py: interrupted" in stderr.read_text()
    assert "Traceback" not in stderr.read_text()


def test_serve_script_refuses_bad_arguments(model_path, tmp_path):
    result = run_script("serve.py", tmp_path / "missing.h5")
    assert result.returncode == 1 and "missing.h5: no such model file" in result.stderr
    result = run_script("serve.py", model_path, "--max-upload", "0")
    assert result.returncode == 1 and "--max-upload" in result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_script("serve.py", model_path, "--port", port)
    assert result.returncode == 1 and f"127.0.0.1:{port}: cannot listen there" in result.stderr


def test_serve_help_explains():
    result = run_script("serve.py", "--help")
    assert result.returncode == 0
    assert all(flag in result.stdout for flag in ("--port", "--host", "--max-upload", "--mode"))


def test_the_page_serves_a_resnet_generator(photo):
    """Any generator of the authors' structures, of any shape: a ResNet trained on 32x64 images
    (--preprocess scale_width of wide pairs) answers an upload with the translation translate.py
    would give (the photo resized to the model's 32x64, not to a square)."""
    keras.utils.set_random_seed(0)
    g_model = define_generator((32, 64, 3), ngf=4, netG="resnet_6blocks", norm="instance")
    server = make_server(g_model, "127.0.0.1", 0, mode="deterministic", name="resnet.h5",
                         max_upload=MAX_UPLOAD)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with open(photo, "rb") as f:
            status, answer = post(server.url, f.read(), "town.png")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert status == 200, answer
    source = resize_array(np.asarray(open_rgb(photo)), 32, 64)
    expected = translate_pixels(g_model, source[np.newaxis], "deterministic")
    assert (answer["height"], answer["width"]) == (32, 64)
    np.testing.assert_array_equal(decode(answer["translation"]), expected[0])
