"""S3Store against the embedded S3: in-process, over HTTP, and `flotod local-swf` as a process.

No mocks: the store talks to the same endpoint the services use, and tampering goes through a
plain boto3 S3 client, as an operator's (or an attacker's) tool would.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from flotod.config import load_config
from flotod.localswf import in_process_s3_client, make_server
from flotod.localswf.backend import LocalSWFBackend
from flotod.payloads import PayloadError, Payloads, PayloadUnavailable
from flotod.payloads.configured import payloads_from_config
from flotod.swf.credentials import LOCAL_ACCESS_KEY_ID, resolve_credentials
from flotod.swf.s3 import S3Store
from tests.conftest import endpoint_client
from tests.localswf.helpers import decide, poll_decision, setup_domain, start

BUCKET = "flotod-payloads"
MB = 1024 * 1024


def plain_s3(url: str) -> Any:
    """What an operator's tool would use: boto3 with no flotod code in between."""
    return boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 0}),
    )


def connect(url: str) -> S3Store:
    """A store built as the services build it: the credentials rule for this endpoint."""
    return S3Store.connect(
        endpoint_url=url, region="us-east-1", credentials=resolve_credentials(endpoint_url=url)
    )


@pytest.fixture(params=["in-process", "server"])
def store(request: pytest.FixtureRequest, swf_backend: LocalSWFBackend) -> Iterator[S3Store]:
    swf_backend.s3.create_bucket(BUCKET)
    if request.param == "in-process":
        yield S3Store(in_process_s3_client(swf_backend))
        return
    server = make_server(swf_backend)
    server.start_in_thread()
    try:
        yield connect(server.url)
    finally:
        server.stop()


def big_text(size: int = MB) -> str:
    """Incompressible-ish JSON text of ``size`` bytes (hex of random bytes in a list)."""
    return '["' + os.urandom((size - 4) // 2).hex() + '"]'


def test_put_then_get_a_megabyte_and_put_again_is_harmless(store: S3Store) -> None:
    data = os.urandom(MB)
    store.put(BUCKET, "a/b/c", data)
    store.put(BUCKET, "a/b/c", data)  # a retried write
    assert store.get(BUCKET, "a/b/c") == data


def test_a_missing_object_or_bucket_is_payload_missing_naming_the_uri(store: S3Store) -> None:
    with pytest.raises(PayloadError) as info:
        store.get(BUCKET, "no/such/key")
    assert info.value.reason == "payload_missing"
    assert info.value.uri == f"s3://{BUCKET}/no/such/key"
    assert "object does not exist" in str(info.value)
    with pytest.raises(PayloadError) as info:
        store.get("no-such-bucket", "k")
    assert (info.value.reason, info.value.uri) == ("payload_missing", "s3://no-such-bucket/k")
    assert "bucket does not exist" in str(info.value)


def test_writing_to_a_bucket_that_does_not_exist_says_so(store: S3Store) -> None:
    """Not the task's fault, and the operator can create the bucket: unavailable, not failed."""
    with pytest.raises(PayloadUnavailable, match="bucket 'not-created' does not exist"):
        store.put("not-created", "k", b"x")


def test_the_codec_round_trips_through_s3_and_the_object_is_where_the_key_says(
    store: S3Store,
) -> None:
    writer = Payloads(store, bucket=BUCKET, prefix="flotod/")
    value = big_text()
    text = writer.encode(value, workflow_id="wf", run_id="run", name="result")
    assert len(text) < 400 and '"uri":"s3://flotod-payloads/flotod/wf/run/result/' in text
    stored = store.get(BUCKET, text.split(f"s3://{BUCKET}/")[1].split('"')[0])
    assert hashlib.sha256(stored).hexdigest() in text
    assert Payloads(store, bucket=BUCKET).decode(text) == value  # a fresh reader, no cache


def test_compression_keeps_small_results_inline_and_large_ones_compressed_in_s3(
    store: S3Store,
) -> None:
    writer = Payloads(store, bucket=BUCKET, prefix="p/", compress=True)
    repetitive = '["' + "abc" * 100_000 + '"]'  # 300 KB, a few hundred bytes zipped
    inline = writer.encode(repetitive, workflow_id="wf", run_id="r", name="a")
    assert '"data":' in inline and '"uri"' not in inline
    noisy = big_text(200_000)
    stored = writer.encode(noisy, workflow_id="wf", run_id="r", name="b")
    assert '"encoding":"zlib"' in stored and '"uri":"s3://' in stored
    reader = Payloads(store, bucket=BUCKET)
    assert reader.decode(inline) == repetitive
    assert reader.decode(stored) == noisy


def test_a_deleted_object_fails_the_read_as_missing(swf_backend: LocalSWFBackend) -> None:
    swf_backend.s3.create_bucket(BUCKET)
    server = make_server(swf_backend)
    server.start_in_thread()
    try:
        store = connect(server.url)
        text = Payloads(store, bucket=BUCKET).encode(
            big_text(), workflow_id="w", run_id="r", name="x"
        )
        uri = text.split('"uri":"')[1].split('"')[0]
        plain_s3(server.url).delete_object(Bucket=BUCKET, Key=uri.split(f"{BUCKET}/", 1)[1])
        with pytest.raises(PayloadError) as info:
            Payloads(store, bucket=BUCKET).decode(text)
    finally:
        server.stop()
    assert (info.value.reason, info.value.uri) == ("payload_missing", uri)


def test_a_tampered_object_fails_the_read_with_payload_tampered(
    swf_backend: LocalSWFBackend,
) -> None:
    swf_backend.s3.create_bucket(BUCKET)
    server = make_server(swf_backend)
    server.start_in_thread()
    try:
        store = connect(server.url)
        text = Payloads(store, bucket=BUCKET).encode(
            big_text(), workflow_id="w", run_id="r", name="x"
        )
        uri = text.split('"uri":"')[1].split('"')[0]
        key = uri.split(f"{BUCKET}/", 1)[1]
        tool = plain_s3(server.url)
        original = tool.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        tool.put_object(Bucket=BUCKET, Key=key, Body=original.replace(b"a", b"b", 1))
        with pytest.raises(PayloadError) as info:
            Payloads(store, bucket=BUCKET).decode(text)
    finally:
        server.stop()
    assert info.value.reason == "payload_tampered"
    assert info.value.uri == uri
    assert "SHA-256 differs" in str(info.value)


def test_an_unreachable_endpoint_is_unavailable_not_missing() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = connect(f"http://127.0.0.1:{port}")
    with pytest.raises(PayloadUnavailable, match=f"cannot read s3://{BUCKET}/k"):
        store.get(BUCKET, "k")
    with pytest.raises(PayloadUnavailable, match=f"cannot store s3://{BUCKET}/k"):
        store.put(BUCKET, "k", b"x")


def test_the_loopback_endpoint_needs_no_credentials_as_for_swf() -> None:
    """The one rule: S3 gets what SWF gets, here the fixed local keys."""
    url = "http://127.0.0.1:4566"
    credentials = resolve_credentials(endpoint_url=url, environ={})
    assert credentials.access_key_id == LOCAL_ACCESS_KEY_ID
    store = S3Store.connect(endpoint_url=url, region="us-east-1", credentials=credentials)
    signer = store.client._request_signer
    assert signer._credentials.access_key == LOCAL_ACCESS_KEY_ID
    assert store.client.meta.config.s3["addressing_style"] == "path"


def test_the_service_config_builds_the_store_from_swf_and_payloads(
    swf_backend: LocalSWFBackend, tmp_path: Path
) -> None:
    swf_backend.s3.create_bucket(BUCKET)
    server = make_server(swf_backend)
    server.start_in_thread()
    try:
        (tmp_path / "flotod.toml").write_text(
            f'[swf]\nendpoint_url = "{server.url}"\n'
            f'[payloads]\ns3_bucket = "{BUCKET}"\nthreshold_bytes = 1000\n[daemon.main]\n'
        )
        payloads = payloads_from_config(load_config(tmp_path, "daemon"))
        assert (payloads.enabled, payloads.threshold, payloads.prefix) == (True, 1000, "flotod/")
        text = payloads.encode("x" * 2000, workflow_id="w", run_id="r", name="input")
        assert text.startswith('{"flotod.payload":1,"uri":"s3://flotod-payloads/flotod/w/r/input/')
        keys = plain_s3(server.url).list_objects_v2(Bucket=BUCKET, Prefix="flotod/w/")
        assert [item["Size"] for item in keys["Contents"]] == [2000]
    finally:
        server.stop()
    (tmp_path / "flotod.toml").write_text("[daemon.main]\n")
    assert not payloads_from_config(load_config(tmp_path, "daemon")).enabled


@pytest.mark.slow
def test_flotod_local_swf_serves_s3_and_swf_on_one_port() -> None:
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "flotod.cli.main", "local-swf", "--port", "0"),
            *("--poll-timeout", "1", "--s3-bucket", BUCKET, "--s3-bucket", "second.bucket"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        store = connect(url)
        data = os.urandom(MB)
        store.put(BUCKET, "k/1", data)
        store.put("second.bucket", "k/2", b"two")
        assert store.get(BUCKET, "k/1") == data
        tool = plain_s3(url)
        assert tool.head_object(Bucket=BUCKET, Key="k/1")["ContentLength"] == MB
        tool.create_bucket(Bucket="made-later")
        tool.head_bucket(Bucket="made-later")
        with pytest.raises(PayloadError, match="object does not exist"):
            store.get(BUCKET, "k/none")
        swf = endpoint_client(url)  # SWF as before, on the same port
        setup_domain(swf)
        start(swf)
        decide(swf, poll_decision(swf), {"decisionType": "CompleteWorkflowExecution"})
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert f"buckets={BUCKET},second.bucket" in err


def test_local_swf_refuses_a_bad_bucket_name(capsys: pytest.CaptureFixture[str]) -> None:
    from flotod.cli.main import main

    assert main(["local-swf", "--port", "0", "--s3-bucket", "Bad_Name"]) == 64
    assert "--s3-bucket 'Bad_Name': expected" in capsys.readouterr().err


def test_a_malformed_request_gets_an_s3_error_and_the_endpoint_keeps_serving(
    swf_backend: LocalSWFBackend,
) -> None:
    """A broken aws-chunked body is answered, not dropped with a traceback on stderr."""
    import http.client

    swf_backend.s3.create_bucket(BUCKET)
    server = make_server(swf_backend)
    server.start_in_thread()
    try:
        host, port = server.server_address[:2]
        connection = http.client.HTTPConnection(str(host), int(port), timeout=5)
        body = b"zz;chunk-signature=x\r\nnot hex\r\n"
        connection.request(
            "PUT", f"/{BUCKET}/k", body=body, headers={"Content-Encoding": "aws-chunked"}
        )
        reply = connection.getresponse()
        assert reply.status == 400
        assert b"<Code>IncompleteBody</Code>" in reply.read()
        connection.close()
        store = connect(server.url)
        store.put(BUCKET, "k", b"fine")
        assert store.get(BUCKET, "k") == b"fine"
    finally:
        server.stop()
