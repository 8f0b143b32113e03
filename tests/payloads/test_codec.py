"""The payload codec on its own: what stays inline, what goes to the store, what fails.

The store here is a dict, since these tests are about the envelope and the checks; the S3
store and the embedded endpoint are tested in tests/payloads/test_s3*.py.
"""

from __future__ import annotations

import json

import pytest

from flotod.payloads import PayloadError, Payloads, is_envelope, parse_envelope


class DictStore:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.puts = 0

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.puts += 1
        self.objects[(bucket, key)] = data

    def get(self, bucket: str, key: str) -> bytes:
        try:
            return self.objects[(bucket, key)]
        except KeyError:
            raise PayloadError("payload_missing", f"no object s3://{bucket}/{key}") from None


def big(n: int = 100_000) -> str:
    return json.dumps({"files": [f"s3://data/part-{i:06d}.csv" for i in range(n // 30)]})


def codec(**kw: object) -> tuple[Payloads, DictStore]:
    store = DictStore()
    return Payloads(store, bucket="b", prefix="flotod/", **kw), store  # type: ignore[arg-type]


def test_small_values_stay_as_they_are() -> None:
    payloads, store = codec()
    assert payloads.encode('{"a": 1}', workflow_id="w", run_id="r", name="t") == '{"a": 1}'
    assert store.puts == 0


def test_threshold_counts_utf8_bytes() -> None:
    payloads, store = codec(threshold=100)
    text = json.dumps("é" * 60, ensure_ascii=False)  # 62 characters, 122 bytes
    out = payloads.encode(text, workflow_id="w", run_id="r", name="t")
    assert is_envelope(out) and store.puts == 1
    assert payloads.decode(out) == text


def test_large_value_goes_to_the_store_and_comes_back() -> None:
    payloads, store = codec()
    text = big()
    out = payloads.encode(text, workflow_id="wf", run_id="run1", name="task-1")
    ref = parse_envelope(out)
    assert len(out) < 500
    assert ref.uri.startswith("s3://b/flotod/wf/run1/task-1/")
    assert ref.uri.endswith(ref.sha256) and ref.size == len(text.encode())
    reader, _ = Payloads(store, bucket="b"), None
    assert reader.decode(out) == text


def test_same_value_same_key_so_retries_rewrite_one_object() -> None:
    payloads, store = codec()
    a = payloads.encode(big(), workflow_id="w", run_id="r", name="t")
    b = payloads.encode(big(), workflow_id="w", run_id="r", name="t")
    assert a == b and len(store.objects) == 1


def test_compression_keeps_compressible_values_inline() -> None:
    payloads, store = codec(compress=True)
    text = big(200_000)
    out = payloads.encode(text, workflow_id="w", run_id="r", name="t")
    assert store.puts == 0 and len(out) <= 30_000
    assert parse_envelope(out).encoding == "zlib"
    assert Payloads.off().decode(out) == text


def test_compressed_values_too_large_inline_go_to_the_store_compressed() -> None:
    payloads, store = codec(compress=True)
    text = json.dumps([str(i * 7919 % 1000003) for i in range(200_000)])
    out = payloads.encode(text, workflow_id="w", run_id="r", name="t")
    ref = parse_envelope(out)
    assert ref.uri and ref.encoding == "zlib"
    (stored,) = store.objects.values()
    assert len(stored) < len(text) / 2
    assert Payloads(store, bucket="b").decode(out) == text


def test_missing_object_fails_with_its_uri() -> None:
    payloads, store = codec()
    out = payloads.encode(big(), workflow_id="w", run_id="r", name="t")
    store.objects.clear()
    with pytest.raises(PayloadError) as caught:
        Payloads(store, bucket="b").decode(out)
    assert caught.value.reason == "payload_missing"
    assert caught.value.uri == parse_envelope(out).uri


def test_tampered_object_fails() -> None:
    payloads, store = codec()
    out = payloads.encode(big(), workflow_id="w", run_id="r", name="t")
    (key,) = store.objects
    store.objects[key] = store.objects[key].replace(b"part-000001", b"part-999999")
    with pytest.raises(PayloadError) as caught:
        Payloads(store, bucket="b").decode(out)
    assert caught.value.reason == "payload_tampered"
    assert "SHA-256" in str(caught.value)


def test_reference_without_a_store_says_so() -> None:
    payloads, _ = codec()
    out = payloads.encode(big(), workflow_id="w", run_id="r", name="t")
    with pytest.raises(PayloadError) as caught:
        Payloads.off().decode(out)
    assert caught.value.reason == "payload_store_off"


@pytest.mark.parametrize(
    "text",
    [
        '{"flotod.payload":1,',
        '{"flotod.payload":2,"uri":"s3://b/k","size":1,"sha256":"' + "0" * 64 + '"}',
        '{"flotod.payload":1,"uri":"http://x","size":1,"sha256":"' + "0" * 64 + '",'
        '"encoding":"none"}',
        '{"flotod.payload":1,"uri":"s3://b/k","size":-1,"sha256":"x","encoding":"gzip"}',
        '{"flotod.payload":1,"data":"!!","size":1,"sha256":"' + "0" * 64 + '","encoding":"zlib"}',
    ],
)
def test_malformed_references_fail_as_invalid(text: str) -> None:
    payloads, _ = codec()
    with pytest.raises(PayloadError) as caught:
        payloads.decode(text)
    assert caught.value.reason in {"payload_invalid", "payload_tampered"}


def test_user_values_that_merely_mention_the_tag_are_values() -> None:
    payloads, _ = codec()
    text = '{"note": "flotod.payload", "flotod.payload": 1}'
    assert payloads.decode(text) == text
